/**
 * `resource` section of a `dummy` node definition: an in-memory fake cloud for tests and dry runs.
 * Defaults are documented here but applied by the driver, never written into the user's data.
 */
import { z } from 'zod';
import { nonNegativeSeconds, text } from '../schema-kit.js';

export const dummyResourceDefaults = { create_delay: 0, ready_delay: 0, failure_rate: 0 } as const;

const rateMsg = 'must be a number from 0 to 1';

export const dummyResourceSchema = z.strictObject(
  {
    type: z.literal('dummy'),
    name: text().optional(),
    create_delay: nonNegativeSeconds()
      .optional()
      .meta({ default: dummyResourceDefaults.create_delay, description: 'Seconds a create takes' }),
    ready_delay: nonNegativeSeconds()
      .optional()
      .meta({ default: dummyResourceDefaults.ready_delay, description: 'Seconds from created to ready' }),
    failure_rate: z
      .number({ error: rateMsg })
      .min(0, { error: rateMsg })
      .max(1, { error: rateMsg })
      .optional()
      .meta({ default: dummyResourceDefaults.failure_rate, description: 'Probability that a create fails' }),
    address_pattern: text()
      .optional()
      .meta({ description: "Address of the instances, e.g. '10.0.{n}.{m}'", examples: ['10.0.{n}.{m}'] }),
    endpoint: text().optional(),
  },
  { error: 'must be a mapping' },
);

export type DummyResource = z.infer<typeof dummyResourceSchema>;
