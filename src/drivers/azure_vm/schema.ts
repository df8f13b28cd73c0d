/** `resource` section of an `azure_vm` node definition (formats §3.3). */
import { z } from 'zod';
import { flag, idValue, nonEmptyText, text } from '../schema-kit.js';

export const azureVmResourceSchema = z
  .strictObject(
    {
      type: z.literal('azure_vm'),
      endpoint: nonEmptyText('the URL of the Azure management API'),
      resource_group: idValue(),
      location: idValue(),
      vm_size: idValue(),
      publisher: idValue(),
      offer: idValue(),
      sku: idValue(),
      version: idValue(),
      username: idValue(),
      public_ip_needed: flag().optional(),
      vnet_name: idValue().optional(),
      subnet_name: idValue().optional(),
      customdata: z.unknown().optional(),
      server_name: text().optional(),
      password: idValue().optional(),
      ssh_key_data: text().optional(),
    },
    { error: 'must be a mapping' },
  )
  .refine((r) => r.password !== undefined || r.ssh_key_data !== undefined, {
    message: "must have either 'password' or 'ssh_key_data' (the VM's login credential)",
    // Report it together with other problems of the section, not only once they are fixed.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value),
  });

export type AzureVmResource = z.infer<typeof azureVmResourceSchema>;
