/** `resource` section of a `cloudsigma` node definition (formats §3.3). */
import { z } from 'zod';
import { idValue, nonEmptyText, numberOrText, text } from '../schema-kit.js';

/** The server definition sent to CloudSigma; only the keys it cannot do without are checked. */
const description = z.looseObject(
  { cpu: numberOrText(), mem: numberOrText(), vnc_password: idValue() },
  { error: 'must be a mapping (the CloudSigma server description)' },
);

export const cloudsigmaResourceSchema = z.strictObject(
  {
    type: z.literal('cloudsigma'),
    endpoint: nonEmptyText('the URL of the CloudSigma API'),
    libdrive_id: idValue(),
    description,
    name: text().optional(),
  },
  { error: 'must be a mapping' },
);

export type CloudsigmaResource = z.infer<typeof cloudsigmaResourceSchema>;
