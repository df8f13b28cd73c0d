export {
  CONFIG_ENV_VAR,
  CONFIG_FILE_NAME,
  defaultConfig,
  findConfigFile,
  loadConfig,
  occopusConfigSchema,
  type ConfigLookupOptions,
  type ConfigSource,
  type LoadedConfig,
  type OccopusConfig,
} from './config.js';
export {
  AUTH_DATA_ENV_VAR,
  AUTH_DATA_FILE_NAME,
  AuthData,
  findAuthDataFile,
  findAuthDataSource,
  type AuthDataLookupOptions,
  type AuthSection,
} from './auth-data.js';
export { REDACTED, isSecretKey, redactSecrets } from './redact.js';
export type { LookupOrigin, LookupResult } from './lookup.js';
