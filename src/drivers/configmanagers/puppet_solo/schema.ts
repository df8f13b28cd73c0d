/**
 * `config_management` section for `puppet_solo` (formats §3.5). The three values must be lists:
 * Occopus would split a plain string into characters (formats §10.18).
 */
import { z } from 'zod';
import { anyList } from '../../schema-kit.js';

export const puppetSoloConfigManagerSchema = z.strictObject(
  {
    type: z.literal('puppet_solo'),
    manifests: anyList('a list of manifest URLs'),
    modules: anyList('a list of module names').optional(),
    attributes: anyList('a list of attribute mappings').optional(),
  },
  { error: 'must be a mapping' },
);

export type PuppetSoloConfigManager = z.infer<typeof puppetSoloConfigManagerSchema>;
