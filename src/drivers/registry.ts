/**
 * The static table of resource types and config-manager types. It holds only what the model layer
 * needs (schema, auth key names, a summary); it imports schema modules, never a driver, so loading it
 * costs no cloud SDK.
 */
import type { z } from 'zod';
import { azureAciResourceSchema } from './azure_aci/schema.js';
import { azureVmResourceSchema } from './azure_vm/schema.js';
import { cloudbrokerResourceSchema } from './cloudbroker/schema.js';
import { cloudsigmaResourceSchema } from './cloudsigma/schema.js';
import { chefConfigManagerSchema } from './configmanagers/chef/schema.js';
import { dummyConfigManagerSchema } from './configmanagers/dummy/schema.js';
import { puppetSoloConfigManagerSchema } from './configmanagers/puppet_solo/schema.js';
import { dockerResourceSchema } from './docker/schema.js';
import { dummyResourceSchema } from './dummy/schema.js';
import { ec2ResourceSchema } from './ec2/schema.js';
import { localResourceSchema } from './local/schema.js';
import { novaResourceSchema } from './nova/schema.js';

export interface ResourceTypeInfo {
  readonly type: string;
  /** Checks the whole `resource` section, `type` included. */
  readonly schema: z.ZodType;
  /** Keys of this type's `auth_data` entry (formats §7.3), for docs and error messages. */
  readonly authKeys: readonly string[];
  readonly summary: string;
}

export interface ConfigManagerTypeInfo {
  readonly type: string;
  /** Checks the whole `config_management` section, `type` included. */
  readonly schema: z.ZodType;
  readonly authKeys: readonly string[];
  readonly summary: string;
}

export const resourceTypes = {
  ec2: {
    type: 'ec2',
    schema: ec2ResourceSchema,
    authKeys: ['accesskey', 'secretkey'],
    summary: 'Amazon EC2 or any EC2-compatible cloud',
  },
  nova: {
    type: 'nova',
    schema: novaResourceSchema,
    authKeys: ['username', 'password'],
    summary: 'OpenStack Nova (password or application-credential auth: type, id, secret)',
  },
  azure_vm: {
    type: 'azure_vm',
    schema: azureVmResourceSchema,
    authKeys: ['tenant_id', 'client_id', 'client_secret', 'subscription_id'],
    summary: 'Microsoft Azure virtual machine',
  },
  azure_aci: {
    type: 'azure_aci',
    schema: azureAciResourceSchema,
    authKeys: ['tenant_id', 'client_id', 'client_secret', 'subscription_id'],
    summary: 'Microsoft Azure Container Instances',
  },
  cloudsigma: {
    type: 'cloudsigma',
    schema: cloudsigmaResourceSchema,
    authKeys: ['email', 'password'],
    summary: 'CloudSigma',
  },
  cloudbroker: {
    type: 'cloudbroker',
    schema: cloudbrokerResourceSchema,
    authKeys: ['email', 'password'],
    summary: 'CloudBroker platform',
  },
  docker: {
    type: 'docker',
    schema: dockerResourceSchema,
    authKeys: [],
    summary: 'A container on a Docker engine',
  },
  local: {
    type: 'local',
    schema: localResourceSchema,
    authKeys: [],
    summary: 'A supervised process on this machine, with its own loopback address (no cloud needed)',
  },
  dummy: {
    type: 'dummy',
    schema: dummyResourceSchema,
    authKeys: [],
    summary: 'An in-memory fake cloud for tests and dry runs',
  },
} as const satisfies Record<string, ResourceTypeInfo>;

export type ResourceType = keyof typeof resourceTypes;

export const configManagerTypes = {
  dummy: {
    type: 'dummy',
    schema: dummyConfigManagerSchema,
    authKeys: [],
    summary: 'Does nothing (the default when config_management is absent)',
  },
  chef: {
    type: 'chef',
    schema: chefConfigManagerSchema,
    authKeys: ['client_name', 'client_key'],
    summary: 'Chef server: a role per node with the run list',
  },
  puppet_solo: {
    type: 'puppet_solo',
    schema: puppetSoloConfigManagerSchema,
    authKeys: [],
    summary: 'Puppet in solo mode, driven from cloud-init',
  },
} as const satisfies Record<string, ConfigManagerTypeInfo>;

export type ConfigManagerType = keyof typeof configManagerTypes;

/** The table entry for `type`, or undefined for an unknown (or non-string) type. */
export function resourceTypeInfo(type: unknown): ResourceTypeInfo | undefined {
  return typeof type === 'string' && Object.hasOwn(resourceTypes, type) ? resourceTypes[type as ResourceType] : undefined;
}

export function configManagerTypeInfo(type: unknown): ConfigManagerTypeInfo | undefined {
  return typeof type === 'string' && Object.hasOwn(configManagerTypes, type)
    ? configManagerTypes[type as ConfigManagerType]
    : undefined;
}
