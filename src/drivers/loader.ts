/**
 * Lazy loading of driver implementations. The registry (`registry.ts`) knows every type and its
 * schema without importing any cloud SDK; the implementation module is imported only when an
 * instance of that type is created or queried, so `occopus --help` never pays for it.
 */
import type { ConfigManagementSection, ResourceSection } from '../descriptors/types.js';
import type { OccopusConfig } from '../config/config.js';
import type { AuthData } from '../config/auth-data.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { OccopusError } from '../errors.js';
import type { ResourceDriver, ResourceHandler } from './resource-handler.js';
import type { ConfigManager, ConfigManagerDriver } from './config-manager.js';

type Loader<T> = () => Promise<{ default: T }>;

const resourceDrivers: Record<string, Loader<ResourceDriver>> = {
  local: () => import('./local/index.js'),
  dummy: () => import('./dummy/index.js'),
  ec2: () => import('./ec2/index.js'),
  nova: () => import('./nova/index.js'),
  docker: () => import('./docker/index.js'),
};

const configManagerDrivers: Record<string, Loader<ConfigManagerDriver>> = {
  dummy: () => import('./configmanagers/dummy/index.js'),
};

export class DriverUnavailableError extends OccopusError {
  constructor(kind: string, type: string, available: string[]) {
    super(
      'E_DRIVER',
      `${kind} type '${type}' has no driver in this version of occopus (available: ${available.join(', ')})`,
    );
  }
}

export interface DriverSetOptions {
  store: Store;
  config: OccopusConfig;
  authData: AuthData;
  log: Logger;
}

/** The drivers of one engine: handlers are cached per distinct resource section. */
export class DriverSet {
  private readonly handlers = new Map<string, Promise<ResourceHandler>>();
  private readonly managers = new Map<string, Promise<ConfigManager>>();

  constructor(private readonly options: DriverSetOptions) {}

  handlerFor(resource: ResourceSection): Promise<ResourceHandler> {
    const key = JSON.stringify(resource);
    let handler = this.handlers.get(key);
    if (!handler) {
      handler = this.loadHandler(resource);
      // A failed load (unknown type, bad credentials) is not cached: the user may fix it.
      handler.catch(() => this.handlers.delete(key));
      this.handlers.set(key, handler);
    }
    return handler;
  }

  managerFor(section: ConfigManagementSection | undefined): Promise<ConfigManager> {
    const effective: ConfigManagementSection = section ?? { type: 'dummy' };
    const key = JSON.stringify(effective);
    let manager = this.managers.get(key);
    if (!manager) {
      manager = this.loadManager(effective);
      manager.catch(() => this.managers.delete(key));
      this.managers.set(key, manager);
    }
    return manager;
  }

  async close(): Promise<void> {
    const handlers = await Promise.allSettled(this.handlers.values());
    this.handlers.clear();
    for (const h of handlers) if (h.status === 'fulfilled') await h.value.close?.();
  }

  private async loadHandler(resource: ResourceSection): Promise<ResourceHandler> {
    const load = resourceDrivers[resource.type];
    if (!load) throw new DriverUnavailableError('resource', resource.type, Object.keys(resourceDrivers));
    const driver = (await load()).default;
    const { store, config, authData, log } = this.options;
    return driver.createHandler(resource, {
      auth: authData.select('resource', resource),
      store,
      config,
      log: {
        debug: (m, f) => log.debug({ driver: resource.type, ...f }, m),
        info: (m, f) => log.info({ driver: resource.type, ...f }, m),
        warn: (m, f) => log.warn({ driver: resource.type, ...f }, m),
      },
    });
  }

  private async loadManager(section: ConfigManagementSection): Promise<ConfigManager> {
    const load = configManagerDrivers[section.type];
    if (!load) throw new DriverUnavailableError('config_management', section.type, Object.keys(configManagerDrivers));
    const driver = (await load()).default;
    return driver.createManager(section, this.options.authData.select('config_management', section));
  }
}
