/** `resource` section of an `ec2` node definition (formats §3.3). */
import { z } from 'zod';
import { idList, idValue, mapping, nonEmptyText, text } from '../schema-kit.js';

const tagValue = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number or a boolean' });

/** The documented list form `[{Key, Value}]` is accepted next to the mapping Occopus really reads (§10.11). */
const tags = z.union(
  [
    mapping(),
    z.array(
      z.looseObject({ Key: text(), Value: tagValue }, { error: 'must be a mapping with Key and Value' }),
      { error: 'must be a list' },
    ),
  ],
  { error: 'must be a mapping of tag names to values, or a list of {Key, Value} mappings' },
);

export const ec2ResourceSchema = z.strictObject(
  {
    type: z.literal('ec2'),
    endpoint: nonEmptyText('the URL of the EC2 API'),
    regionname: idValue(),
    image_id: idValue(),
    instance_type: idValue(),
    key_name: idValue().optional(),
    security_group_ids: idList('a list of security group ids').optional(),
    subnet_id: idValue().optional(),
    name: text().optional(),
    tags: tags.optional(),
  },
  { error: 'must be a mapping' },
);

export type Ec2Resource = z.infer<typeof ec2ResourceSchema>;
