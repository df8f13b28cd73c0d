/** `config_management` section for `chef` (formats §3.5). Chef attributes come from `contextualisation.attributes`. */
import { z } from 'zod';
import { anyList, nonEmptyText } from '../../schema-kit.js';

export const chefConfigManagerSchema = z.strictObject(
  {
    type: z.literal('chef'),
    endpoint: nonEmptyText('the URL of the Chef server'),
    run_list: anyList('a list of run-list items'),
  },
  { error: 'must be a mapping' },
);

export type ChefConfigManager = z.infer<typeof chefConfigManagerSchema>;
