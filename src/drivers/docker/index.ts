/**
 * The `docker` driver: node instances are containers on a Docker engine, reached through the
 * Engine API (`dockerode`). See `handler.ts` for identity, state and drop, `image.ts` for how a
 * missing image is fetched from `origin`, `endpoint.ts` for endpoints and TLS, and `command.ts`
 * for the docker contextualisation.
 */
import type { ResourceDriver } from '../resource-handler.js';
import { DockerResourceHandler } from './handler.js';

export {
  DockerResourceHandler,
  LABEL_INFRA_ID,
  LABEL_NODE_ID,
  LABEL_NODE_NAME,
  addressesOf,
  containerIdOf,
  containerName,
  mapState,
  type DockerHandlerOptions,
} from './handler.js';
export { ORIGIN_LABEL, parseOrigin, displayOrigin, type DownloadTimeouts } from './image.js';
export { splitCommand, commandArgv, environment } from './command.js';
export { dockerEndpoint, displayEndpoint } from './endpoint.js';
export { archiveKind } from './archive.js';

const dockerDriver: ResourceDriver = {
  type: 'docker',
  createHandler(resource, context) {
    return new DockerResourceHandler({ resource, auth: context.auth, log: context.log });
  },
};

export default dockerDriver;
