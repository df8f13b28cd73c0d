/** `contextualisation` section for `cloudinit` (formats §3.4). */
import { z } from 'zod';
import { mapping } from '../../drivers/schema-kit.js';

export const cloudinitContextSchema = z.strictObject(
  {
    type: z.literal('cloudinit'),
    // A mapping becomes `#cloud-config` text, a string is used verbatim, empty means no context.
    context_template: z.union([z.record(z.string(), z.unknown()), z.string(), z.null()], {
      error: 'must be a mapping (cloud-config), a string, or empty',
    }),
    attributes: mapping().optional(),
  },
  { error: 'must be a mapping' },
);

export type CloudinitContext = z.infer<typeof cloudinitContextSchema>;
