/** `contextualisation` section for `docker` containers (formats §3.4); also used by `azure_aci`. */
import { z } from 'zod';
import { stringList } from '../../drivers/schema-kit.js';

export const dockerContextSchema = z.strictObject(
  {
    type: z.literal('docker'),
    env: stringList("a list of 'NAME=value' strings"),
    context_variables: z.unknown().optional(),
    command: z
      .union([z.string(), z.array(z.string({ error: 'must be a string' }))], { error: 'must be a string or a list of strings' })
      .optional(),
  },
  { error: 'must be a mapping' },
);

export type DockerContext = z.infer<typeof dockerContextSchema>;
