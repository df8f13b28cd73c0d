/** `contextualisation` section for `basic`: attributes only (formats §3.4). */
import { z } from 'zod';
import { mapping } from '../../drivers/schema-kit.js';

export const basicContextSchema = z.strictObject(
  {
    type: z.literal('basic'),
    attributes: mapping(),
  },
  { error: 'must be a mapping' },
);

export type BasicContext = z.infer<typeof basicContextSchema>;
