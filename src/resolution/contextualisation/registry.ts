/**
 * Contextualisation types (formats §3.4) and their schemas. A node definition without a
 * `contextualisation` section uses `basic`.
 */
import type { z } from 'zod';
import { basicContextSchema } from './basic.schema.js';
import { cloudinitContextSchema } from './cloudinit.schema.js';
import { dockerContextSchema } from './docker.schema.js';

export interface ContextualisationTypeInfo {
  readonly type: string;
  /** Checks the whole `contextualisation` section, `type` included. */
  readonly schema: z.ZodType;
  readonly summary: string;
}

export const contextualisationTypes = {
  cloudinit: {
    type: 'cloudinit',
    schema: cloudinitContextSchema,
    summary: 'A cloud-init document rendered for each instance (ec2, nova, azure_vm, cloudbroker, cloudsigma)',
  },
  docker: {
    type: 'docker',
    schema: dockerContextSchema,
    summary: 'Environment and command of a container (docker, azure_aci)',
  },
  basic: {
    type: 'basic',
    schema: basicContextSchema,
    summary: 'Attributes only (the default when contextualisation is absent)',
  },
} as const satisfies Record<string, ContextualisationTypeInfo>;

export type ContextualisationType = keyof typeof contextualisationTypes;

export function contextualisationTypeInfo(type: unknown): ContextualisationTypeInfo | undefined {
  return typeof type === 'string' && Object.hasOwn(contextualisationTypes, type)
    ? contextualisationTypes[type as ContextualisationType]
    : undefined;
}
