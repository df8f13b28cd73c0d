/** `resource` section of a `local` node definition: a supervised process on this machine. */
import { z } from 'zod';
import { text } from '../schema-kit.js';

export const localResourceSchema = z.strictObject(
  {
    type: z.literal('local'),
    name: text().optional(),
  },
  { error: 'must be a mapping' },
);

export type LocalResource = z.infer<typeof localResourceSchema>;
