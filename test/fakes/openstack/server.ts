/**
 * A local fake of the OpenStack APIs the `nova` driver uses, on one loopback port with a path prefix
 * per service, all reached through the Keystone catalog as on a real cloud:
 * - Keystone v3 (`/identity/v3`): `POST /auth/tokens` with password (user + domain, project scope)
 *   or application-credential auth, `X-Subject-Token`, `expires_at`, a catalog with public and
 *   internal endpoints in two regions;
 * - Nova (`/compute/v2.1`): flavors, servers (BUILD → ACTIVE or ERROR on a timer; a deleted server
 *   keeps its status while it is deleted, then is gone), metadata, block_device_mapping_v2;
 * - Neutron (`/network/v2.0`): networks (`router:external`), ports, floating IPs with quota;
 * - Cinder (`/volume/v3/{project_id}`): volumes (creating → available, in-use while attached,
 *   deleted on server delete when `delete_on_termination`), `os-set_bootable`.
 * Error bodies follow each service (`itemNotFound`, `badRequest`, `overLimit`, `NeutronError`,
 * Keystone's `error`). Every service call needs a valid token for the right project.
 *
 * Tests inject latency, throttling (429 with Retry-After), 5xx (also after the request took
 * effect), failed boots and failed volumes, and inspect servers, floating IPs and volumes.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AddressPool,
  FaultInjector,
  Timers,
  delay,
  listen,
  randomLoopbackPrefix,
  readBody,
  type FakeHttp,
  type FaultRule,
  type LoggedRequest,
} from '../common.js';

type Json = Record<string, unknown>;

export interface FakeUser {
  name: string;
  password: string;
  domain?: string;
  projects: string[];
}

export interface FakeAppCredential {
  id: string;
  secret: string;
  project: string;
}

export interface FakeFlavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface FakeNetwork {
  id: string;
  name: string;
  external: boolean;
}

export interface FakeServer {
  id: string;
  name: string;
  project: string;
  status: 'BUILD' | 'ACTIVE' | 'ERROR' | 'SHUTOFF';
  task_state: string | null;
  metadata: Record<string, string>;
  flavor: string;
  image: string;
  key_name: string | null;
  security_groups: string[];
  networks: string[];
  user_data: string | null;
  fault: { code: number; message: string } | null;
  volumes: { id: string; delete_on_termination: boolean }[];
  created: string;
}

export interface FakePort {
  id: string;
  device_id: string;
  network_id: string;
  ip: string;
  mac: string;
}

export interface FakeFloatingIp {
  id: string;
  project: string;
  floating_network_id: string;
  floating_ip_address: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  description: string;
}

export interface FakeVolume {
  id: string;
  project: string;
  name: string;
  size: number;
  status: 'creating' | 'available' | 'in-use' | 'error' | 'deleting';
  bootable: boolean;
  imageRef: string | null;
  metadata: Record<string, string>;
  attached_to: string | null;
}

export interface OpenStackFakeOptions {
  users?: FakeUser[];
  appCredentials?: FakeAppCredential[];
  region?: string;
  tokenTtlMs?: number;
  /** BUILD → ACTIVE (ms). */
  bootMs?: number;
  /** How long a deleted server stays visible (ms). */
  deleteMs?: number;
  /** creating → available, deleting → gone (ms). */
  volumeMs?: number;
  images?: string[];
  flavors?: FakeFlavor[];
  networks?: FakeNetwork[];
  keypairs?: string[];
  securityGroups?: string[];
  floatingIpQuota?: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(JSON.stringify(body));
  }
}

const novaError = (status: number, message: string): ApiError => {
  const kind = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest' }[status] ?? 'computeFault';
  return new ApiError(status, { [kind]: { code: status, message } });
};
const neutronError = (status: number, type: string, message: string): ApiError =>
  new ApiError(status, { NeutronError: { type, message, detail: '' } });
const unauthorized = (): ApiError =>
  new ApiError(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });

interface TokenRecord {
  project: string;
  user: string;
  expiresAt: number;
}

export class OpenStackFake {
  readonly faults = new FaultInjector();
  readonly requests: LoggedRequest[] = [];
  readonly users: FakeUser[];
  readonly appCredentials: FakeAppCredential[];
  readonly region: string;
  readonly images: Set<string>;
  readonly flavors: FakeFlavor[];
  readonly networks: FakeNetwork[];
  readonly keypairs: Set<string>;
  readonly securityGroups: Set<string>;
  tokenTtlMs: number;
  bootMs: number;
  deleteMs: number;
  volumeMs: number;
  floatingIpQuota: number;
  /** Tokens issued so far (token reuse is visible here). */
  tokensIssued = 0;
  private failBoots = 0;
  private failVolumes = 0;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly serverMap = new Map<string, FakeServer>();
  private readonly portMap = new Map<string, FakePort>();
  private readonly fipMap = new Map<string, FakeFloatingIp>();
  private readonly volumeMap = new Map<string, FakeVolume>();
  private readonly timers = new Timers();
  private readonly floatingPool = new AddressPool(randomLoopbackPrefix());
  private readonly fixedPool = new AddressPool(`10.${Math.floor(Math.random() * 250)}`);
  private http: FakeHttp | null = null;

  constructor(options: OpenStackFakeOptions = {}) {
    this.users = options.users ?? [{ name: 'demo', password: 'demo-secret-pw', domain: 'Default', projects: ['p-demo'] }];
    this.appCredentials = options.appCredentials ?? [];
    this.region = options.region ?? 'RegionOne';
    this.tokenTtlMs = options.tokenTtlMs ?? 3_600_000;
    this.bootMs = options.bootMs ?? 300;
    this.deleteMs = options.deleteMs ?? 200;
    this.volumeMs = options.volumeMs ?? 200;
    this.images = new Set(options.images ?? ['img-ubuntu']);
    this.flavors = options.flavors ?? [
      { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1 },
      { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20 },
      { id: '3', name: 'm1.medium', vcpus: 2, ram: 4096, disk: 40 },
    ];
    this.networks = options.networks ?? [
      { id: 'net-private', name: 'private', external: false },
      { id: 'net-public', name: 'public', external: true },
    ];
    this.keypairs = new Set(options.keypairs ?? []);
    this.securityGroups = new Set(options.securityGroups ?? ['default']);
    this.floatingIpQuota = options.floatingIpQuota ?? 50;
  }

  get baseUrl(): string {
    if (!this.http) throw new Error('the OpenStack fake is not started');
    return this.http.baseUrl;
  }

  /** The Keystone URL users put in `endpoint`. */
  get authUrl(): string {
    return `${this.baseUrl}/identity/v3`;
  }

  async start(): Promise<this> {
    this.http = await listen((req, res) => void this.handle(req, res));
    return this;
  }

  async close(): Promise<void> {
    this.timers.clear();
    await this.http?.close();
    this.http = null;
  }

  // --- inspection and fault injection --------------------------------------------------------

  servers(): FakeServer[] {
    return [...this.serverMap.values()].map((s) => structuredClone(s));
  }
  floatingIps(): FakeFloatingIp[] {
    return [...this.fipMap.values()].map((f) => structuredClone(f));
  }
  volumes(): FakeVolume[] {
    return [...this.volumeMap.values()].map((v) => structuredClone(v));
  }
  ports(): FakePort[] {
    return [...this.portMap.values()].map((p) => structuredClone(p));
  }
  /** What would be billed or hold quota: every server, floating IP and volume that still exists. */
  leaks(): { servers: number; floatingIps: number; volumes: number } {
    return { servers: this.serverMap.size, floatingIps: this.fipMap.size, volumes: this.volumeMap.size };
  }
  calls(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(r.operation)).length;
  }
  inject(rule: FaultRule): void {
    this.faults.add(rule);
  }
  throttle(times: number, match?: RegExp, retryAfter = 0): void {
    this.faults.add({ ...(match ? { match } : {}), status: 429, times, retryAfter });
  }
  serverErrors(times: number, match?: RegExp, afterProcessing = false): void {
    this.faults.add({ ...(match ? { match } : {}), status: 503, times, afterProcessing });
  }
  failNextBoots(n: number): void {
    this.failBoots += n;
  }
  failNextVolumes(n: number): void {
    this.failVolumes += n;
  }
  /** Every token becomes invalid (as after a Keystone key rotation). */
  revokeTokens(): void {
    this.tokens.clear();
  }
  /** Puts a server into a state as the cloud would (ERROR after a host failure, SHUTOFF). */
  setServerStatus(id: string, status: FakeServer['status']): void {
    const s = this.serverMap.get(id);
    if (!s) throw new Error(`no server ${id}`);
    s.status = status;
    if (status === 'ERROR') s.fault = { code: 500, message: 'The host of this server failed' };
  }
  /**
   * What a process killed in the middle of a create leaves behind, made directly: a server (in
   * BUILD unless told otherwise), a volume, a floating IP, each labelled with `nodeId` as the
   * driver labels them.
   */
  seedServer(nodeId: string, status: FakeServer['status'] = 'BUILD', project = this.users[0]?.projects[0] ?? 'p'): FakeServer {
    const server: FakeServer = {
      id: randomUUID(),
      name: 'left-over',
      project,
      status,
      task_state: null,
      metadata: { occopus_node_id: nodeId },
      flavor: this.flavors[0]?.id ?? '1',
      image: [...this.images][0] ?? '',
      key_name: null,
      security_groups: ['default'],
      networks: this.networks.filter((n) => !n.external).map((n) => n.id),
      user_data: null,
      fault: null,
      volumes: [],
      created: new Date().toISOString(),
    };
    this.serverMap.set(server.id, server);
    if (status === 'ACTIVE') {
      for (const net of server.networks) {
        const port: FakePort = { id: randomUUID(), device_id: server.id, network_id: net, ip: this.fixedPool.take(), mac: 'fa:16:3e:00:00:02' };
        this.portMap.set(port.id, port);
      }
    }
    return server;
  }
  seedVolume(nodeId: string, project = this.users[0]?.projects[0] ?? 'p'): FakeVolume {
    const vol = this.newVolume(project, 'left-over', 1, null, { occopus_node_id: nodeId });
    vol.status = 'available';
    return vol;
  }
  seedFloatingIp(nodeId: string, project = this.users[0]?.projects[0] ?? 'p'): FakeFloatingIp {
    const fip: FakeFloatingIp = {
      id: randomUUID(),
      project,
      floating_network_id: this.networks.find((n) => n.external)?.id ?? 'ext',
      floating_ip_address: this.floatingPool.take(),
      port_id: null,
      fixed_ip_address: null,
      description: `occopus node ${nodeId}`,
    };
    this.fipMap.set(fip.id, fip);
    return fip;
  }
  /** Removes everything (a test's own cleanup). */
  reset(): void {
    this.serverMap.clear();
    this.portMap.clear();
    this.fipMap.clear();
    this.volumeMap.clear();
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://fake');
    let operation = `${method} ${url.pathname}`;
    const send = (status: number, body: Json | null, headers: Record<string, string> = {}): void => {
      this.requests.push({ method, operation, status, at: Date.now() });
      res.writeHead(status, { ...(body ? { 'content-type': 'application/json' } : {}), 'x-openstack-request-id': `req-${randomUUID()}`, ...headers });
      res.end(body ? JSON.stringify(body) : undefined);
    };
    try {
      const raw = await readBody(req);
      let body: Json = {};
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8')) as Json;
        } catch {
          throw novaError(400, 'Malformed request body');
        }
      }
      const route = this.route(url.pathname);
      operation = `${method} /${route.service}${route.path}`;
      await delay(this.faults.latencyMs);
      const fault = this.faults.take(operation);
      if (fault && !fault.afterProcessing) throw this.faultError(fault);
      const result = this.dispatch(method, route, url.searchParams, body, req);
      if (fault) throw this.faultError(fault);
      send(result.status, result.body ?? null, result.headers);
    } catch (e) {
      if (e instanceof ApiError) return send(e.status, e.body, e.headers);
      send(500, { computeFault: { code: 500, message: e instanceof Error ? e.message : String(e) } });
    }
  }

  private faultError(rule: FaultRule): ApiError {
    const headers: Record<string, string> = rule.retryAfter !== undefined ? { 'retry-after': String(rule.retryAfter) } : {};
    if (rule.status === 429 || rule.status === 413) {
      return new ApiError(rule.status, { overLimit: { code: rule.status, message: rule.message ?? 'This request was rate-limited.', retryAfter: String(rule.retryAfter ?? 0) } }, headers);
    }
    return new ApiError(rule.status, { computeFault: { code: rule.status, message: rule.message ?? 'Service Unavailable' } }, headers);
  }

  private route(pathname: string): { service: string; path: string; project?: string } {
    const m =
      /^\/identity\/v3(\/.*)?$/.exec(pathname) ??
      /^\/compute\/v2\.1(\/.*)?$/.exec(pathname) ??
      /^\/network\/v2\.0(\/.*)?$/.exec(pathname);
    if (m) return { service: pathname.split('/')[1] as string, path: m[1] ?? '/' };
    const v = /^\/volume\/v3\/([^/]+)(\/.*)?$/.exec(pathname);
    if (v) return { service: 'volume', path: v[2] ?? '/', project: v[1] as string };
    throw new ApiError(404, { error: { code: 404, title: 'Not Found', message: `no service at ${pathname}` } });
  }

  private dispatch(
    method: string,
    route: { service: string; path: string; project?: string },
    query: URLSearchParams,
    body: Json,
    req: IncomingMessage,
  ): { status: number; body?: Json; headers?: Record<string, string> } {
    if (route.service === 'identity') {
      if (method === 'POST' && route.path === '/auth/tokens') return this.issueToken(body);
      if (method === 'GET' && route.path === '/') return { status: 200, body: { version: { id: 'v3.14', status: 'stable' } } };
      throw new ApiError(404, { error: { code: 404, title: 'Not Found', message: 'not found' } });
    }
    const token = this.authorise(req);
    if (route.service === 'compute') return this.compute(method, route.path, query, body, token);
    if (route.service === 'network') return this.network(method, route.path, query, body, token);
    if (route.project !== token.project) throw novaError(403, 'Policy does not allow this request to be performed.');
    return this.volume(method, route.path, query, body, token);
  }

  // --- Keystone ------------------------------------------------------------------------------

  private issueToken(body: Json): { status: number; body: Json; headers: Record<string, string> } {
    const identity = ((body['auth'] as Json | undefined)?.['identity'] ?? {}) as Json;
    const methods = Array.isArray(identity['methods']) ? (identity['methods'] as string[]) : [];
    let user: string;
    let project: string;
    if (methods.includes('password')) {
      const u = ((identity['password'] as Json | undefined)?.['user'] ?? {}) as Json;
      const domain = ((u['domain'] as Json | undefined)?.['name'] ?? (u['domain'] as Json | undefined)?.['id']) as string | undefined;
      const found = this.users.find((x) => x.name === u['name'] && x.password === u['password'] && (x.domain ?? 'Default') === domain);
      if (!found) throw unauthorized();
      const scope = ((body['auth'] as Json)['scope'] as Json | undefined)?.['project'] as Json | undefined;
      const scoped = scope?.['id'];
      if (typeof scoped !== 'string' || !found.projects.includes(scoped)) throw unauthorized();
      user = found.name;
      project = scoped;
    } else if (methods.includes('application_credential')) {
      const c = (identity['application_credential'] ?? {}) as Json;
      const found = this.appCredentials.find((x) => x.id === c['id'] && x.secret === c['secret']);
      if (!found) throw unauthorized();
      user = `appcred-${found.id}`;
      project = found.project;
    } else {
      throw new ApiError(400, { error: { code: 400, title: 'Bad Request', message: 'Expecting to find identity methods' } });
    }
    const id = `gAAAA${randomUUID().replace(/-/g, '')}`;
    const now = Date.now();
    this.tokens.set(id, { project, user, expiresAt: now + this.tokenTtlMs });
    this.tokensIssued += 1;
    const base = this.baseUrl;
    const endpoints = (path: string): Json[] => [
      { id: randomUUID(), interface: 'public', region: this.region, region_id: this.region, url: `${base}${path}` },
      // Wrong answers for a client that picks the wrong interface or region.
      { id: randomUUID(), interface: 'internal', region: this.region, region_id: this.region, url: `http://127.0.0.1:9${path}` },
      { id: randomUUID(), interface: 'public', region: 'OtherRegion', region_id: 'OtherRegion', url: `http://127.0.0.1:9${path}` },
    ];
    const catalog = [
      { type: 'identity', name: 'keystone', endpoints: endpoints('/identity/v3') },
      { type: 'compute', name: 'nova', endpoints: endpoints('/compute/v2.1') },
      { type: 'network', name: 'neutron', endpoints: endpoints('/network') },
      { type: 'volumev3', name: 'cinderv3', endpoints: endpoints(`/volume/v3/${project}`) },
    ];
    return {
      status: 201,
      headers: { 'x-subject-token': id },
      body: {
        token: {
          methods,
          user: { id: user, name: user, domain: { id: 'default', name: 'Default' } },
          project: { id: project, name: project, domain: { id: 'default', name: 'Default' } },
          issued_at: new Date(now).toISOString(),
          expires_at: new Date(now + this.tokenTtlMs).toISOString(),
          catalog,
          roles: [{ id: 'r1', name: 'member' }],
        },
      },
    };
  }

  private authorise(req: IncomingMessage): TokenRecord {
    const id = req.headers['x-auth-token'];
    const record = typeof id === 'string' ? this.tokens.get(id) : undefined;
    if (!record || record.expiresAt <= Date.now()) throw unauthorized();
    return record;
  }

  // --- Nova ----------------------------------------------------------------------------------

  private compute(method: string, path: string, query: URLSearchParams, body: Json, token: TokenRecord): { status: number; body?: Json } {
    const flavorJson = (f: FakeFlavor): Json => ({ ...f, 'OS-FLV-EXT-DATA:ephemeral': 0, swap: 0, rxtx_factor: 1, 'os-flavor-access:is_public': true });
    if (method === 'GET' && path === '/') return { status: 200, body: { version: { id: 'v2.1', status: 'CURRENT', version: '2.79', min_version: '2.1' } } };
    if (method === 'GET' && path === '/flavors/detail') return { status: 200, body: { flavors: this.flavors.map(flavorJson) } };
    if (method === 'GET' && path === '/flavors') return { status: 200, body: { flavors: this.flavors.map((f) => ({ id: f.id, name: f.name })) } };
    let m = /^\/flavors\/([^/]+)$/.exec(path);
    if (method === 'GET' && m) {
      const f = this.flavors.find((x) => x.id === m?.[1]);
      if (!f) throw novaError(404, `Flavor ${m[1]} could not be found.`);
      return { status: 200, body: { flavor: flavorJson(f) } };
    }
    if (method === 'POST' && path === '/servers') return this.createServer(body, token);
    if (method === 'GET' && (path === '/servers/detail' || path === '/servers')) {
      const all = [...this.serverMap.values()].filter((s) => s.project === token.project).sort((a, b) => (a.id < b.id ? -1 : 1));
      const limit = Number(query.get('limit') ?? 1000);
      const marker = query.get('marker');
      const start = marker ? all.findIndex((s) => s.id === marker) + 1 : 0;
      const page = all.slice(start, start + limit);
      const links = start + limit < all.length ? [{ rel: 'next', href: `${this.baseUrl}/compute/v2.1${path}?limit=${limit}&marker=${page[page.length - 1]?.id}` }] : [];
      const servers = page.map((s) => (path === '/servers' ? { id: s.id, name: s.name } : this.serverJson(s)));
      return { status: 200, body: { servers, ...(links.length ? { servers_links: links } : {}) } };
    }
    m = /^\/servers\/([^/]+)$/.exec(path);
    if (m) {
      const s = this.serverMap.get(m[1] as string);
      if (!s || s.project !== token.project) throw novaError(404, `Instance ${m[1]} could not be found.`);
      if (method === 'GET') return { status: 200, body: { server: this.serverJson(s) } };
      if (method === 'DELETE') {
        if (s.task_state !== 'deleting') {
          s.task_state = 'deleting';
          this.timers.after(this.deleteMs, () => this.removeServer(s.id));
        }
        return { status: 204 };
      }
    }
    throw novaError(404, 'The resource could not be found.');
  }

  private createServer(body: Json, token: TokenRecord): { status: number; body: Json } {
    const spec = body['server'] as Json | undefined;
    if (!spec || typeof spec !== 'object') throw novaError(400, "Invalid input for field/attribute server. Value: None. None is not of type 'object'");
    const name = spec['name'];
    if (typeof name !== 'string' || !name.trim() || name.length > 255) throw novaError(400, "Invalid input for field/attribute name.");
    const flavor = this.flavors.find((f) => f.id === spec['flavorRef']);
    if (!flavor) throw novaError(400, `Flavor ${String(spec['flavorRef'])} could not be found.`);
    const bdm = Array.isArray(spec['block_device_mapping_v2']) ? (spec['block_device_mapping_v2'] as Json[]) : [];
    const bootVolume = bdm.find((b) => String(b['boot_index']) === '0');
    const imageRef = typeof spec['imageRef'] === 'string' ? spec['imageRef'] : '';
    if (!bootVolume && !this.images.has(imageRef)) throw novaError(400, 'Can not find requested image');
    let networks: string[] = [];
    if (Array.isArray(spec['networks'])) {
      for (const n of spec['networks'] as Json[]) {
        const net = this.networks.find((x) => x.id === n['uuid']);
        if (!net) throw novaError(400, `Network ${String(n['uuid'])} could not be found.`);
        networks.push(net.id);
      }
    } else {
      const internal = this.networks.filter((n) => !n.external);
      if (internal.length > 1) throw novaError(409, 'Multiple possible networks found, use a Network ID to be more specific.');
      networks = internal.map((n) => n.id);
    }
    const keyName = spec['key_name'];
    if (keyName !== undefined && keyName !== null && !this.keypairs.has(String(keyName))) throw novaError(400, 'Invalid key_name provided.');
    const groups = Array.isArray(spec['security_groups']) ? (spec['security_groups'] as Json[]).map((g) => String(g['name'])) : ['default'];
    for (const g of groups) if (!this.securityGroups.has(g)) throw novaError(400, `Security group ${g} not found for project ${token.project}.`);
    let userData: string | null = null;
    if (spec['user_data'] !== undefined && spec['user_data'] !== null) {
      const ud = String(spec['user_data']);
      if (ud.length > 65535) throw novaError(400, 'User data too large. User data must be no larger than 65535 bytes once base64 encoded.');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(ud)) throw novaError(400, 'User data needs to be valid base 64.');
      userData = Buffer.from(ud, 'base64').toString('utf8');
    }
    const metadata = (spec['metadata'] ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string' || k.length > 255 || v.length > 255) throw novaError(400, 'Invalid input for field/attribute metadata.');
    }

    const server: FakeServer = {
      id: randomUUID(),
      name,
      project: token.project,
      status: 'BUILD',
      task_state: 'spawning',
      metadata: metadata as Record<string, string>,
      flavor: flavor.id,
      image: bootVolume ? '' : imageRef,
      key_name: keyName === undefined || keyName === null ? null : String(keyName),
      security_groups: groups,
      networks,
      user_data: userData,
      fault: null,
      volumes: [],
      created: new Date().toISOString(),
    };
    if (bootVolume) {
      const destroy = bootVolume['delete_on_termination'] === true || bootVolume['delete_on_termination'] === 'true';
      if (bootVolume['source_type'] === 'volume') {
        const vol = this.volumeMap.get(String(bootVolume['uuid']));
        if (!vol || vol.project !== token.project) throw novaError(400, `Block Device Mapping is Invalid: failed to get volume ${String(bootVolume['uuid'])}.`);
        if (vol.status !== 'available') throw novaError(400, `Block Device Mapping is Invalid: volume ${vol.id} status is ${vol.status}, expected available.`);
        vol.status = 'in-use';
        vol.attached_to = server.id;
        server.volumes.push({ id: vol.id, delete_on_termination: destroy });
      } else if (bootVolume['source_type'] === 'image') {
        if (!this.images.has(String(bootVolume['uuid']))) throw novaError(400, 'Can not find requested image');
        const size = Number(bootVolume['volume_size'] ?? flavor.disk);
        if (!Number.isInteger(size) || size < 1) throw novaError(400, 'Block Device Mapping is Invalid: volume_size must be a positive integer.');
        const vol = this.newVolume(token.project, '', size, String(bootVolume['uuid']), {});
        vol.status = 'in-use';
        vol.bootable = true;
        vol.attached_to = server.id;
        server.volumes.push({ id: vol.id, delete_on_termination: destroy });
      } else {
        throw novaError(400, 'Block Device Mapping is Invalid: unknown source_type.');
      }
    }
    this.serverMap.set(server.id, server);
    const fails = this.failBoots > 0;
    if (fails) this.failBoots -= 1;
    this.timers.after(this.bootMs, () => {
      if (server.status !== 'BUILD' || !this.serverMap.has(server.id)) return;
      server.task_state = null;
      if (fails) {
        server.status = 'ERROR';
        server.fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.' };
        return;
      }
      for (const net of server.networks) {
        const port: FakePort = { id: randomUUID(), device_id: server.id, network_id: net, ip: this.fixedPool.take(), mac: 'fa:16:3e:00:00:01' };
        this.portMap.set(port.id, port);
      }
      server.status = 'ACTIVE';
    });
    return { status: 202, body: { server: { id: server.id, links: [], adminPass: 'fakeAdminPass', security_groups: groups.map((g) => ({ name: g })), 'OS-DCF:diskConfig': 'MANUAL' } } };
  }

  private removeServer(id: string): void {
    const server = this.serverMap.get(id);
    if (!server) return;
    this.serverMap.delete(id);
    for (const port of [...this.portMap.values()].filter((p) => p.device_id === id)) {
      this.portMap.delete(port.id);
      for (const fip of this.fipMap.values()) {
        if (fip.port_id === port.id) {
          fip.port_id = null;
          fip.fixed_ip_address = null;
        }
      }
    }
    for (const att of server.volumes) {
      const vol = this.volumeMap.get(att.id);
      if (!vol) continue;
      vol.status = 'available';
      vol.attached_to = null;
      if (att.delete_on_termination) this.volumeMap.delete(vol.id);
    }
  }

  private serverJson(s: FakeServer): Json {
    const addresses: Record<string, Json[]> = {};
    for (const port of this.portMap.values()) {
      if (port.device_id !== s.id) continue;
      const net = this.networks.find((n) => n.id === port.network_id)?.name ?? port.network_id;
      const list = (addresses[net] ??= []);
      list.push({ version: 4, addr: port.ip, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port.mac });
      for (const fip of this.fipMap.values()) {
        if (fip.port_id === port.id) list.push({ version: 4, addr: fip.floating_ip_address, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': port.mac });
      }
    }
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      tenant_id: s.project,
      user_id: 'u',
      metadata: s.metadata,
      hostId: 'h',
      image: s.image ? { id: s.image } : '',
      flavor: { id: s.flavor },
      created: s.created,
      updated: s.created,
      addresses,
      key_name: s.key_name,
      security_groups: s.security_groups.map((name) => ({ name })),
      'OS-EXT-STS:task_state': s.task_state,
      'OS-EXT-STS:vm_state': s.status.toLowerCase(),
      'os-extended-volumes:volumes_attached': s.volumes.map((v) => ({ id: v.id, delete_on_termination: v.delete_on_termination })),
      ...(s.fault ? { fault: { ...s.fault, created: s.created } } : {}),
    };
  }

  // --- Neutron -------------------------------------------------------------------------------

  private network(method: string, path: string, query: URLSearchParams, body: Json, token: TokenRecord): { status: number; body?: Json } {
    const fipJson = (f: FakeFloatingIp): Json => ({
      id: f.id,
      tenant_id: f.project,
      project_id: f.project,
      floating_network_id: f.floating_network_id,
      floating_ip_address: f.floating_ip_address,
      port_id: f.port_id,
      fixed_ip_address: f.fixed_ip_address,
      router_id: f.port_id ? 'router-1' : null,
      status: f.port_id ? 'ACTIVE' : 'DOWN',
      description: f.description,
    });
    const filterBy = <T extends Json>(items: T[]): T[] =>
      items.filter((item) => [...query].every(([k, v]) => !(k in item) || String(item[k]) === v));
    if (method === 'GET' && path === '/networks') {
      const nets = this.networks.map((n) => ({ id: n.id, name: n.name, 'router:external': n.external, status: 'ACTIVE', subnets: [`${n.id}-subnet`], project_id: token.project }));
      return { status: 200, body: { networks: filterBy(nets) } };
    }
    if (method === 'GET' && path === '/ports') {
      const ports = [...this.portMap.values()]
        .filter((p) => this.serverMap.get(p.device_id)?.project === token.project)
        .map((p) => ({ id: p.id, device_id: p.device_id, device_owner: 'compute:nova', network_id: p.network_id, mac_address: p.mac, status: 'ACTIVE', fixed_ips: [{ subnet_id: `${p.network_id}-subnet`, ip_address: p.ip }] }));
      return { status: 200, body: { ports: filterBy(ports) } };
    }
    if (method === 'GET' && path === '/floatingips') {
      const fips = [...this.fipMap.values()].filter((f) => f.project === token.project).map(fipJson);
      return { status: 200, body: { floatingips: filterBy(fips) } };
    }
    if (method === 'POST' && path === '/floatingips') {
      const spec = (body['floatingip'] ?? {}) as Json;
      const net = this.networks.find((n) => n.id === spec['floating_network_id']);
      if (!net) throw neutronError(404, 'NetworkNotFound', `Network ${String(spec['floating_network_id'])} could not be found.`);
      if (!net.external) throw neutronError(400, 'BadRequest', `Bad floatingip request: Network ${net.id} is not a valid external network.`);
      if ([...this.fipMap.values()].filter((f) => f.project === token.project).length >= this.floatingIpQuota) {
        throw neutronError(409, 'OverQuota', "Quota exceeded for resources: ['floatingip'].");
      }
      const fip: FakeFloatingIp = {
        id: randomUUID(),
        project: token.project,
        floating_network_id: net.id,
        floating_ip_address: this.floatingPool.take(),
        port_id: null,
        fixed_ip_address: null,
        description: typeof spec['description'] === 'string' ? spec['description'] : '',
      };
      if (spec['port_id']) this.associate(fip, String(spec['port_id']));
      this.fipMap.set(fip.id, fip);
      return { status: 201, body: { floatingip: fipJson(fip) } };
    }
    const m = /^\/floatingips\/([^/]+)$/.exec(path);
    if (m) {
      const fip = this.fipMap.get(m[1] as string);
      if (!fip || fip.project !== token.project) throw neutronError(404, 'FloatingIPNotFound', `Floating IP ${m[1]} could not be found`);
      if (method === 'GET') return { status: 200, body: { floatingip: fipJson(fip) } };
      if (method === 'PUT') {
        const spec = (body['floatingip'] ?? {}) as Json;
        if (spec['port_id'] === null) {
          fip.port_id = null;
          fip.fixed_ip_address = null;
        } else if (spec['port_id'] !== undefined) this.associate(fip, String(spec['port_id']));
        return { status: 200, body: { floatingip: fipJson(fip) } };
      }
      if (method === 'DELETE') {
        this.fipMap.delete(fip.id);
        return { status: 204 };
      }
    }
    throw neutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  }

  private associate(fip: FakeFloatingIp, portId: string): void {
    const port = this.portMap.get(portId);
    if (!port) throw neutronError(404, 'PortNotFound', `Port ${portId} could not be found.`);
    const taken = [...this.fipMap.values()].find((f) => f.port_id === portId && f.id !== fip.id);
    if (taken) throw neutronError(409, 'FloatingIPPortAlreadyAssociated', `Cannot associate floating IP ${fip.floating_ip_address} with port ${portId}: it already has a floating IP.`);
    fip.port_id = port.id;
    fip.fixed_ip_address = port.ip;
  }

  // --- Cinder --------------------------------------------------------------------------------

  private newVolume(project: string, name: string, size: number, imageRef: string | null, metadata: Record<string, string>): FakeVolume {
    const vol: FakeVolume = { id: randomUUID(), project, name, size, status: 'creating', bootable: false, imageRef, metadata, attached_to: null };
    this.volumeMap.set(vol.id, vol);
    return vol;
  }

  private volume(method: string, path: string, query: URLSearchParams, body: Json, token: TokenRecord): { status: number; body?: Json } {
    const volJson = (v: FakeVolume): Json => ({
      id: v.id,
      name: v.name,
      size: v.size,
      status: v.status,
      bootable: String(v.bootable),
      metadata: v.metadata,
      attachments: v.attached_to ? [{ server_id: v.attached_to, volume_id: v.id, device: '/dev/vda' }] : [],
      volume_image_metadata: v.imageRef ? { image_id: v.imageRef } : undefined,
      'os-vol-tenant-attr:tenant_id': v.project,
    });
    if (method === 'POST' && path === '/volumes') {
      const spec = (body['volume'] ?? {}) as Json;
      const size = Number(spec['size']);
      if (!Number.isInteger(size) || size < 1) throw novaError(400, `Invalid input received: 'size' parameter must be an integer greater than 0.`);
      const imageRef = typeof spec['imageRef'] === 'string' ? spec['imageRef'] : null;
      if (imageRef !== null && !this.images.has(imageRef)) throw novaError(400, `Invalid image identifier or unable to access requested image.`);
      const vol = this.newVolume(token.project, String(spec['name'] ?? ''), size, imageRef, (spec['metadata'] ?? {}) as Record<string, string>);
      const fails = this.failVolumes > 0;
      if (fails) this.failVolumes -= 1;
      this.timers.after(this.volumeMs, () => {
        if (vol.status !== 'creating') return;
        vol.status = fails ? 'error' : 'available';
        if (!fails && imageRef) vol.bootable = true;
      });
      return { status: 202, body: { volume: volJson(vol) } };
    }
    if (method === 'GET' && (path === '/volumes/detail' || path === '/volumes')) {
      let vols = [...this.volumeMap.values()].filter((v) => v.project === token.project);
      const meta = query.get('metadata');
      if (meta) {
        let wanted: Record<string, string> = {};
        try {
          wanted = JSON.parse(meta) as Record<string, string>;
        } catch {
          throw novaError(400, 'Invalid metadata filter');
        }
        vols = vols.filter((v) => Object.entries(wanted).every(([k, val]) => v.metadata[k] === val));
      }
      return { status: 200, body: { volumes: vols.map(volJson) } };
    }
    let m = /^\/volumes\/([^/]+)$/.exec(path);
    if (m) {
      const vol = this.volumeMap.get(m[1] as string);
      if (!vol || vol.project !== token.project) throw novaError(404, `Volume ${m[1]} could not be found.`);
      if (method === 'GET') return { status: 200, body: { volume: volJson(vol) } };
      if (method === 'DELETE') {
        if (vol.status !== 'available' && vol.status !== 'error' && vol.status !== 'deleting') {
          throw novaError(
            400,
            'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots or be disassociated from snapshots after volume transfer.',
          );
        }
        if (vol.status !== 'deleting') {
          vol.status = 'deleting';
          this.timers.after(this.volumeMs, () => this.volumeMap.delete(vol.id));
        }
        return { status: 202 };
      }
    }
    m = /^\/volumes\/([^/]+)\/metadata$/.exec(path);
    if (m && method === 'PUT') {
      const vol = this.volumeMap.get(m[1] as string);
      if (!vol || vol.project !== token.project) throw novaError(404, `Volume ${m[1]} could not be found.`);
      vol.metadata = { ...((body['metadata'] ?? {}) as Record<string, string>) };
      return { status: 200, body: { metadata: vol.metadata } };
    }
    m = /^\/volumes\/([^/]+)\/action$/.exec(path);
    if (m && method === 'POST') {
      const vol = this.volumeMap.get(m[1] as string);
      if (!vol || vol.project !== token.project) throw novaError(404, `Volume ${m[1]} could not be found.`);
      const setBootable = body['os-set_bootable'] as Json | undefined;
      if (setBootable) {
        vol.bootable = setBootable['bootable'] === true || setBootable['bootable'] === 'true';
        return { status: 200 };
      }
      throw novaError(400, 'There is no such action');
    }
    throw novaError(404, 'The resource could not be found.');
  }
}

export async function startOpenStackFake(options: OpenStackFakeOptions = {}): Promise<OpenStackFake> {
  return new OpenStackFake(options).start();
}
