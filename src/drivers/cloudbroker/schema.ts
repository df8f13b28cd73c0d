/** `resource` section of a `cloudbroker` node definition (formats §3.3). */
import { z } from 'zod';
import { flag, idValue, nonEmptyText, text } from '../schema-kit.js';

/** Sent to CloudBroker as the `<instance>` document; only the keys it cannot do without are checked. */
const description = z.looseObject(
  { deployment_id: idValue(), instance_type_id: idValue() },
  { error: 'must be a mapping (the CloudBroker instance description)' },
);

export const cloudbrokerResourceSchema = z.strictObject(
  {
    type: z.literal('cloudbroker'),
    endpoint: nonEmptyText('the URL of the CloudBroker API'),
    description,
    name: text().optional(),
    start_in_vpc: flag().optional(),
  },
  { error: 'must be a mapping' },
);

export type CloudbrokerResource = z.infer<typeof cloudbrokerResourceSchema>;
