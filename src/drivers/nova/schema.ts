/**
 * `resource` section of a `nova` (OpenStack) node definition (formats §3.3). Optional keys may be
 * left empty (null), as the kubernetes tutorial does; `floating_ip` takes any value because its mere
 * presence asks for a floating IP.
 */
import { z } from 'zod';
import { flag, idList, idValue, nonEmptyText, nonNegativeInteger, text } from '../schema-kit.js';

const volumeSize = z.union([nonNegativeInteger(), z.string().regex(/^\d+$/, { error: 'must be a non-negative integer' })], {
  error: 'must be a non-negative integer (GB)',
});

export const novaResourceSchema = z.strictObject(
  {
    type: z.literal('nova'),
    endpoint: nonEmptyText('the URL of the Keystone API'),
    image_id: idValue(),
    flavor_name: idValue(),
    project_id: idValue(),
    server_name: text().nullable().optional(),
    key_name: idValue().nullable().optional(),
    security_groups: idList('a list of security group names').nullable().optional(),
    floating_ip: z.unknown().optional(),
    name: text().optional(),
    tenant_name: idValue().nullable().optional(),
    user_domain_name: idValue().nullable().optional(),
    network_id: idValue().nullable().optional(),
    floating_ip_pool: idValue().nullable().optional(),
    region_name: idValue().nullable().optional(),
    volume_size: volumeSize.nullable().optional(),
    volume_persist: flag().nullable().optional(),
  },
  { error: 'must be a mapping' },
);

export type NovaResource = z.infer<typeof novaResourceSchema>;
