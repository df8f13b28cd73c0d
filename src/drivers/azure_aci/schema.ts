/** `resource` section of an `azure_aci` (Azure Container Instances) node definition (formats §3.3). */
import { z } from 'zod';
import { idValue, nonEmptyText, numberOrText, port, positiveInteger } from '../schema-kit.js';

const portSpec = z.union([port(), z.string().regex(/^\d{1,5}(\/(tcp|udp))?$/i, { error: "must be like 80 or '53/UDP'" })], {
  error: "must be a port number or a string like '53/UDP'",
});

export const azureAciResourceSchema = z.strictObject(
  {
    type: z.literal('azure_aci'),
    endpoint: nonEmptyText('the URL of the Azure management API'),
    resource_group: idValue(),
    location: idValue(),
    cpu_cores: numberOrText(),
    memory: numberOrText(),
    image: nonEmptyText('a container image name'),
    os_type: idValue(),
    // Occopus only fails on a bad value when the container is created; we say so at import.
    network_type: z.string({ error: "must be 'Public' or 'Private'" }).regex(/^(public|private)$/i, {
      error: "must be 'Public' or 'Private'",
    }),
    gpu_type: idValue().optional(),
    gpu_count: z.union([positiveInteger(), z.string()], { error: 'must be a positive integer' }).optional(),
    ports: z.array(portSpec, { error: 'must be a list of ports' }).optional(),
    vnet_name: idValue().optional(),
    subnet_name: idValue().optional(),
  },
  { error: 'must be a mapping' },
);

export type AzureAciResource = z.infer<typeof azureAciResourceSchema>;
