/**
 * `setup()` of the seed API (spec/seed-api.rst, runtime §7.1): finds and loads the config file and the
 * auth data, and opens the store. Unlike Occopus, no config file is needed: everything has a default.
 */
import { loadConfig, type ConfigSource, type OccopusConfig } from '../config/config.js';
import { AuthData, findAuthDataFile } from '../config/auth-data.js';
import { openStore, currentUser } from '../store/open.js';
import type { Store } from '../store/store.js';

export interface SetupOptions {
  /** `--cfg`: path of our config file. */
  cfg?: string;
  /** `--auth_data_path`: path of an Occopus `auth_data.yaml`. */
  authDataPath?: string;
  /** Overrides the config's `store` URL (tests, `--store`). */
  store?: string;
  /** Environment used for the lookups (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** User the store is scoped to (default: the OS login name, as Occopus does). */
  user?: string;
}

/** What `setup()` builds: the seed's `configuration` plus the components. */
export interface OccopusApp {
  configuration: OccopusConfig;
  configSource: ConfigSource;
  authDataPath: string | null;
  authData: AuthData;
  store: Store;
  user: string;
  /** Things the user should know about their setup (e.g. an Occopus 1.x config that was ignored). */
  warnings: string[];
  close(): Promise<void>;
}

export async function setup(options: SetupOptions = {}): Promise<OccopusApp> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const lookup = {
    ...(options.cfg !== undefined ? { cfg: options.cfg } : {}),
    env,
    cwd,
  };
  const { config, source, warnings } = loadConfig(lookup);
  const authDataPath = findAuthDataFile({
    ...(options.authDataPath !== undefined ? { authDataPath: options.authDataPath } : {}),
    env,
    cwd,
  });
  const authData = AuthData.fromFile(authDataPath);
  const user = options.user ?? currentUser();
  const store = await openStore(options.store ?? config.store, { user });
  return {
    configuration: config,
    configSource: source,
    authDataPath,
    authData,
    store,
    user,
    warnings,
    close: () => store.close(),
  };
}
