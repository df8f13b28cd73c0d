/**
 * From a node definition's `endpoint` (and the TLS material of its `auth_data` entry) to the
 * connection options of a Docker Engine API client.
 *
 *   unix:///var/run/docker.sock   the local engine's socket
 *   tcp://host:port               plain HTTP (port 2375 by default), or TLS (port 2376) when the
 *                                 auth_data entry holds `ca`, `cert` or `key`
 *   http://host:port, https://host:port
 *
 * auth_data keys (PEM text, not file names): `ca` (the CA that signed the engine's certificate;
 * without it the system's trusted CAs are used), `cert` and `key` (the client certificate and its
 * private key, for engines started with `--tlsverify`; both or neither).
 */
import type { DockerOptions } from 'dockerode';
import { AuthError, DriverError } from '../../errors.js';

export interface DockerEndpoint {
  options: DockerOptions;
  /** The endpoint as it may appear in messages: no user info, query or fragment. */
  display: string;
}

const TLS_KEYS = ['ca', 'cert', 'key'] as const;
type TlsKey = (typeof TLS_KEYS)[number];

/** The endpoint without anything that could be a credential (user info, query, fragment). */
export function displayEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (url.protocol === 'unix:') return `unix://${url.pathname}`;
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return endpoint.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
}

function tlsMaterial(auth: Record<string, unknown> | null, display: string): Partial<Record<TlsKey, string>> {
  if (!auth) return {};
  const unknown = Object.keys(auth).filter((k) => !(TLS_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new AuthError(
      `auth_data for the Docker engine at ${display}: unknown key(s) ${unknown.join(', ')} (expected ca, cert, key: PEM text)`,
    );
  }
  const material: Partial<Record<TlsKey, string>> = {};
  for (const k of TLS_KEYS) {
    const value = auth[k];
    if (value === undefined || value === null) continue;
    // Never echo the value: it may be a private key.
    if (typeof value !== 'string' || !value.includes('-----BEGIN ')) {
      throw new AuthError(`auth_data for the Docker engine at ${display}: '${k}' must be PEM text (-----BEGIN ...)`);
    }
    material[k] = value;
  }
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new AuthError(`auth_data for the Docker engine at ${display}: 'cert' and 'key' go together (the client certificate and its key)`);
  }
  return material;
}

/**
 * Every connection field is set explicitly (undefined where unused) so that the client library's
 * defaults from DOCKER_HOST, DOCKER_CERT_PATH or DOCKER_CLIENT_TIMEOUT never override the node
 * definition.
 */
export function dockerEndpoint(endpoint: string, auth: Record<string, unknown> | null): DockerEndpoint {
  const display = displayEndpoint(endpoint);
  const bad = (): DriverError =>
    new DriverError(
      `docker: endpoint '${display}' is not a Docker API address (expected unix:///path/to/docker.sock, tcp://host:port, http://host:port or https://host:port)`,
    );
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad();
  }
  const none = { host: undefined, port: undefined, socketPath: undefined, ca: undefined, cert: undefined, key: undefined };
  if (url.protocol === 'unix:') {
    if (url.host !== '') throw bad();
    return { display, options: { ...none, socketPath: url.pathname || '/var/run/docker.sock', protocol: 'http' } };
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') throw bad();
  if (!url.hostname) throw bad();
  const tls = tlsMaterial(auth, display);
  const secure = url.protocol === 'https:' || (url.protocol === 'tcp:' && Object.keys(tls).length > 0);
  if (url.protocol === 'http:' && Object.keys(tls).length > 0) {
    throw new AuthError(`auth_data for the Docker engine at ${display} holds TLS material, but the endpoint is plain http://`);
  }
  const defaultPort = url.protocol === 'tcp:' ? (secure ? 2376 : 2375) : secure ? 443 : 80;
  // URL keeps IPv6 literals in brackets; the HTTP client wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    display,
    options: {
      ...none,
      host,
      port: url.port ? Number(url.port) : defaultPort,
      protocol: secure ? 'https' : 'http',
      ...(secure ? tls : {}),
    },
  };
}
