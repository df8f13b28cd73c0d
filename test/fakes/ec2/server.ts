/**
 * A local fake of the Amazon EC2 Query API, enough for the `ec2` driver and faithful where it
 * matters: form-encoded `Action=...` requests signed with SigV4 (the signature is checked against
 * the configured secret), XML answers in the EC2 namespace, EC2 error codes
 * (`<Response><Errors><Error><Code>`), `ClientToken` idempotency with `IdempotentParameterMismatch`,
 * instance states with their codes, changing on timers (pending → running, shutting-down →
 * terminated, terminated instances vanish after a while as on AWS), tag and client-token filters.
 *
 * Tests inject latency, throttling (`RequestLimitExceeded`), 5xx errors (also after the request took
 * effect) and failed boots, and inspect the instances to assert nothing leaked.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AddressPool,
  FaultInjector,
  Timers,
  delay,
  listen,
  randomHex,
  randomLoopbackPrefix,
  readBody,
  type FakeHttp,
  type FaultRule,
  type LoggedRequest,
} from '../common.js';

export type Ec2State = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

const STATE_CODES: Record<Ec2State, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface FakeInstance {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  keyName: string | null;
  subnetId: string | null;
  securityGroupIds: string[];
  /** Decoded user data (UTF-8), or null. */
  userData: string | null;
  clientToken: string | null;
  tags: Record<string, string>;
  state: Ec2State;
  stateReason: { code: string; message: string } | null;
  launchTime: string;
  privateIp: string;
  publicIp: string | null;
}

export interface Ec2FakeOptions {
  accessKey?: string;
  secretKey?: string;
  region?: string;
  /** pending → running (ms). */
  bootMs?: number;
  /** shutting-down → terminated (ms). */
  terminateMs?: number;
  /** How long a terminated instance stays visible (AWS: about an hour). */
  purgeMs?: number;
  images?: string[];
  instanceTypes?: string[];
  keyNames?: string[];
  securityGroupIds?: string[];
  subnetIds?: string[];
  /** false: RunInstances ignores TagSpecifications, as some EC2-compatible clouds do. */
  tagSpecifications?: boolean;
}

interface TokenRecord {
  fingerprint: string;
  reservationId: string;
  instanceIds: string[];
}

class Ec2ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `Foo.1.Bar.2` style parameters as a flat map. */
type Params = Map<string, string>;

function listParam(params: Params, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) as string);
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function el(name: string, value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? `<${name}/>` : `<${name}>${esc(String(value))}</${name}>`;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export class Ec2Fake {
  readonly faults = new FaultInjector();
  readonly requests: LoggedRequest[] = [];
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  readonly images: Set<string>;
  readonly instanceTypes: Set<string>;
  readonly keyNames: Set<string>;
  readonly securityGroupIds: Set<string>;
  readonly subnetIds: Set<string>;
  bootMs: number;
  terminateMs: number;
  tagSpecifications: boolean;
  purgeMs: number;
  private failBoots = 0;
  private readonly byId = new Map<string, FakeInstance>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly timers = new Timers();
  private readonly publicPool = new AddressPool(randomLoopbackPrefix());
  private readonly privatePool = new AddressPool(`10.${Math.floor(Math.random() * 250)}`);
  private http: FakeHttp | null = null;

  constructor(options: Ec2FakeOptions = {}) {
    this.accessKey = options.accessKey ?? `AKIA${randomHex(16).toUpperCase()}`;
    this.secretKey = options.secretKey ?? randomHex(40);
    this.region = options.region ?? 'eu-fake-1';
    this.bootMs = options.bootMs ?? 300;
    this.terminateMs = options.terminateMs ?? 200;
    this.purgeMs = options.purgeMs ?? 1000;
    this.images = new Set(options.images ?? ['ami-12345678']);
    this.instanceTypes = new Set(options.instanceTypes ?? ['t2.micro', 'm5.large']);
    this.keyNames = new Set(options.keyNames ?? []);
    this.securityGroupIds = new Set(options.securityGroupIds ?? []);
    this.subnetIds = new Set(options.subnetIds ?? []);
    this.tagSpecifications = options.tagSpecifications ?? true;
  }

  get endpoint(): string {
    if (!this.http) throw new Error('the EC2 fake is not started');
    return this.http.baseUrl;
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

  /** Every instance still visible, terminated ones included. */
  instances(): FakeInstance[] {
    return [...this.byId.values()].map((i) => structuredClone(i));
  }

  /** Instances that are not terminated: what a user pays for (shutting-down counts). */
  live(): FakeInstance[] {
    return this.instances().filter((i) => i.state !== 'terminated');
  }

  /** How many times each Action was called (all statuses). */
  calls(action: string): number {
    return this.requests.filter((r) => r.operation === action).length;
  }

  throttle(times: number, action?: string): void {
    this.faults.add({ ...(action ? { match: action } : {}), status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.', times });
  }

  serverErrors(times: number, action?: string, afterProcessing = false): void {
    this.faults.add({
      ...(action ? { match: action } : {}),
      status: 500,
      code: 'InternalError',
      message: 'An internal error has occurred',
      times,
      afterProcessing,
    });
  }

  inject(rule: FaultRule): void {
    this.faults.add(rule);
  }

  /** The next `n` launched instances fail to boot (pending → shutting-down → terminated, Server.InternalError). */
  failNextBoots(n: number): void {
    this.failBoots += n;
  }

  /** Changes an instance's state as the console or the provider would (stop, terminate). */
  setState(instanceId: string, state: Ec2State): void {
    const inst = this.byId.get(instanceId);
    if (!inst) throw new Error(`no instance ${instanceId}`);
    if (state === 'shutting-down' || state === 'terminated') {
      this.terminate(inst, { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
      return;
    }
    inst.state = state;
  }

  // ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let action = '?';
    const requestId = randomUUID();
    const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
      this.requests.push({ method: req.method ?? 'GET', operation: action, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, ...headers });
      res.end(body);
    };
    const fail = (e: Ec2ApiError, headers: Record<string, string> = {}): void =>
      reply(
        e.status,
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>${el('Code', e.code)}${el('Message', e.message)}</Error></Errors>${el('RequestID', requestId)}</Response>`,
        headers,
      );
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://fake');
      const params: Params = new Map(url.searchParams);
      if (req.method === 'POST') for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
      action = params.get('Action') ?? '?';
      await delay(this.faults.latencyMs);
      this.authenticate(req, url, body);

      const fault = this.faults.take(action);
      if (fault && !fault.afterProcessing) {
        return fail(
          new Ec2ApiError(fault.status, fault.code ?? 'InternalError', fault.message ?? 'injected fault'),
          fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
        );
      }
      const result = this.dispatch(action, params);
      if (fault) return fail(new Ec2ApiError(fault.status, fault.code ?? 'InternalError', fault.message ?? 'injected fault'));
      reply(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}">${el('requestId', requestId)}${result}</${action}Response>`);
    } catch (e) {
      if (e instanceof Ec2ApiError) return fail(e);
      fail(new Ec2ApiError(500, 'InternalError', e instanceof Error ? e.message : String(e)));
    }
  }

  /** SigV4, as AWS checks it: known access key, region in the scope, signature over the canonical request. */
  private authenticate(req: IncomingMessage, url: URL, body: Buffer): void {
    const header = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
      header,
    );
    if (!m) throw new Ec2ApiError(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    const [, accessKey, date, region, service, signedHeaders, signature] = m as unknown as string[];
    if (accessKey !== this.accessKey) throw new Ec2ApiError(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    if (region !== this.region) {
      throw new Ec2ApiError(401, 'AuthFailure', `Credential should be scoped to a valid region, not '${region}'.`);
    }
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const names = (signedHeaders as string).split(';');
    const canonicalHeaders = names
      .map((n) => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const query = [...url.searchParams]
      .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
      .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const payloadHash = String(req.headers['x-amz-content-sha256'] ?? createHash('sha256').update(body).digest('hex'));
    const canonical = [req.method, url.pathname || '/', query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${this.secretKey}`, date as string), region as string), service as string), 'aws4_request');
    const expected = createHmac('sha256', signingKey).update(toSign).digest();
    const given = Buffer.from(signature as string, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Ec2ApiError(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    }
  }

  private dispatch(action: string, params: Params): string {
    switch (action) {
      case 'RunInstances':
        return this.runInstances(params);
      case 'DescribeInstances':
        return this.describeInstances(params);
      case 'TerminateInstances':
        return this.terminateInstances(params);
      case 'CreateTags':
        return this.createTags(params);
      default:
        throw new Ec2ApiError(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private runInstances(params: Params): string {
    const imageId = params.get('ImageId') ?? '';
    const instanceType = params.get('InstanceType') ?? 'm1.small';
    const keyName = params.get('KeyName') ?? null;
    const subnetId = params.get('SubnetId') ?? null;
    const groups = listParam(params, 'SecurityGroupId');
    const min = Number(params.get('MinCount') ?? NaN);
    const max = Number(params.get('MaxCount') ?? NaN);
    const clientToken = params.get('ClientToken') ?? null;
    const userData64 = params.get('UserData') ?? null;
    const tags: Record<string, string> = {};
    for (let i = 1; this.tagSpecifications && params.has(`TagSpecification.${i}.ResourceType`); i++) {
      if (params.get(`TagSpecification.${i}.ResourceType`) !== 'instance') continue;
      for (let j = 1; params.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
        tags[params.get(`TagSpecification.${i}.Tag.${j}.Key`) as string] = params.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
      }
    }

    if (clientToken !== null) {
      if (clientToken.length > 64) throw new Ec2ApiError(400, 'InvalidParameterValue', 'Client token must be at most 64 characters');
      const fingerprint = createHash('sha256')
        .update(JSON.stringify([imageId, instanceType, keyName, subnetId, groups, min, max, userData64, tags]))
        .digest('hex');
      const earlier = this.tokens.get(clientToken);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          throw new Ec2ApiError(400, 'IdempotentParameterMismatch', 'The client token you have provided is associated with a request with different parameters.');
        }
        const same = earlier.instanceIds.map((id) => this.byId.get(id)).filter((i): i is FakeInstance => i !== undefined);
        return this.reservationXml(earlier.reservationId, same);
      }
    }

    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw new Ec2ApiError(400, 'InvalidParameterValue', 'MinCount and MaxCount must be positive integers with MinCount <= MaxCount');
    }
    if (!/^ami-/.test(imageId) && !this.images.has(imageId)) throw new Ec2ApiError(400, 'InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    if (!this.images.has(imageId)) throw new Ec2ApiError(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (!this.instanceTypes.has(instanceType)) {
      throw new Ec2ApiError(400, 'InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
    }
    if (keyName !== null && !this.keyNames.has(keyName)) throw new Ec2ApiError(400, 'InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
    if (subnetId !== null && !this.subnetIds.has(subnetId)) throw new Ec2ApiError(400, 'InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    for (const g of groups) if (!this.securityGroupIds.has(g)) throw new Ec2ApiError(400, 'InvalidGroup.NotFound', `The security group '${g}' does not exist`);
    let userData: string | null = null;
    if (userData64 !== null) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData64)) throw new Ec2ApiError(400, 'InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
      const raw = Buffer.from(userData64, 'base64');
      if (raw.length > 16384) throw new Ec2ApiError(400, 'InvalidParameterValue', 'User data is limited to 16384 bytes');
      userData = raw.toString('utf8');
    }
    for (const key of Object.keys(tags)) {
      if (key.startsWith('aws:')) throw new Ec2ApiError(400, 'InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
    }

    const reservationId = `r-${randomHex(17)}`;
    const launched: FakeInstance[] = [];
    for (let n = 0; n < max; n++) {
      const inst: FakeInstance = {
        instanceId: `i-${randomHex(17)}`,
        reservationId,
        imageId,
        instanceType,
        keyName,
        subnetId,
        securityGroupIds: groups,
        userData,
        clientToken,
        tags: { ...tags },
        state: 'pending',
        stateReason: { code: 'pending', message: 'pending' },
        launchTime: new Date().toISOString(),
        privateIp: this.privatePool.take(),
        publicIp: this.publicPool.take(),
      };
      this.byId.set(inst.instanceId, inst);
      launched.push(inst);
      const fails = this.failBoots > 0;
      if (fails) this.failBoots -= 1;
      this.timers.after(this.bootMs, () => {
        if (inst.state !== 'pending') return;
        if (fails) this.terminate(inst, { code: 'Server.InternalError', message: 'Server.InternalError: Internal error on launch' });
        else {
          inst.state = 'running';
          inst.stateReason = null;
        }
      });
    }
    if (clientToken !== null) {
      this.tokens.set(clientToken, {
        fingerprint: createHash('sha256')
          .update(JSON.stringify([imageId, instanceType, keyName, subnetId, groups, min, max, userData64, tags]))
          .digest('hex'),
        reservationId,
        instanceIds: launched.map((i) => i.instanceId),
      });
    }
    return this.reservationXml(reservationId, launched);
  }

  private reservationXml(reservationId: string, instances: FakeInstance[]): string {
    return `${el('reservationId', reservationId)}${el('ownerId', '123456789012')}<groupSet/><instancesSet>${instances.map((i) => this.instanceXml(i)).join('')}</instancesSet>`;
  }

  private terminate(inst: FakeInstance, reason: { code: string; message: string }): void {
    if (inst.state === 'terminated' || inst.state === 'shutting-down') return;
    inst.state = 'shutting-down';
    inst.stateReason = reason;
    this.timers.after(this.terminateMs, () => {
      inst.state = 'terminated';
      inst.publicIp = null;
      this.timers.after(this.purgeMs, () => this.byId.delete(inst.instanceId));
    });
  }

  private lookup(ids: string[]): FakeInstance[] {
    const found: FakeInstance[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      if (!/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new Ec2ApiError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      const inst = this.byId.get(id);
      if (inst) found.push(inst);
      else missing.push(id);
    }
    if (missing.length === 1) throw new Ec2ApiError(400, 'InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1) throw new Ec2ApiError(400, 'InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return found;
  }

  private describeInstances(params: Params): string {
    const ids = listParam(params, 'InstanceId');
    let selected = ids.length ? this.lookup(ids) : [...this.byId.values()];
    for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
      const name = params.get(`Filter.${i}.Name`) as string;
      const values = listParam(params, `Filter.${i}.Value`);
      selected = selected.filter((inst) => {
        if (name.startsWith('tag:')) {
          const v = inst.tags[name.slice(4)];
          return v !== undefined && values.includes(v);
        }
        switch (name) {
          case 'tag-key':
            return values.some((k) => k in inst.tags);
          case 'client-token':
            return inst.clientToken !== null && values.includes(inst.clientToken);
          case 'instance-state-name':
            return values.includes(inst.state);
          case 'instance-id':
            return values.includes(inst.instanceId);
          default:
            throw new Ec2ApiError(400, 'InvalidParameterValue', `The filter '${name}' is invalid`);
        }
      });
    }
    const byReservation = new Map<string, FakeInstance[]>();
    for (const inst of selected) byReservation.set(inst.reservationId, [...(byReservation.get(inst.reservationId) ?? []), inst]);
    const items = [...byReservation]
      .map(([rid, list]) => `<item>${this.reservationXml(rid, list)}</item>`)
      .join('');
    return `<reservationSet>${items}</reservationSet>`;
  }

  private terminateInstances(params: Params): string {
    const ids = listParam(params, 'InstanceId');
    if (!ids.length) throw new Ec2ApiError(400, 'MissingParameter', 'The request must contain the parameter InstanceId');
    const items = this.lookup(ids).map((inst) => {
      const previous = inst.state;
      this.terminate(inst, { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
      return `<item>${el('instanceId', inst.instanceId)}<currentState>${el('code', STATE_CODES[inst.state])}${el('name', inst.state)}</currentState><previousState>${el('code', STATE_CODES[previous])}${el('name', previous)}</previousState></item>`;
    });
    return `<instancesSet>${items.join('')}</instancesSet>`;
  }

  private createTags(params: Params): string {
    const ids = listParam(params, 'ResourceId');
    const targets = this.lookup(ids);
    for (let j = 1; params.has(`Tag.${j}.Key`); j++) {
      for (const t of targets) t.tags[params.get(`Tag.${j}.Key`) as string] = params.get(`Tag.${j}.Value`) ?? '';
    }
    return '<return>true</return>';
  }

  private instanceXml(i: FakeInstance): string {
    const privateDns = `ip-${i.privateIp.replace(/\./g, '-')}.${this.region}.compute.internal`;
    const publicDns = i.publicIp ? `ec2-${i.publicIp.replace(/\./g, '-')}.${this.region}.compute.fake` : '';
    return (
      '<item>' +
      el('instanceId', i.instanceId) +
      el('imageId', i.imageId) +
      `<instanceState>${el('code', STATE_CODES[i.state])}${el('name', i.state)}</instanceState>` +
      el('privateDnsName', privateDns) +
      el('dnsName', publicDns) +
      el('reason', i.stateReason && i.state !== 'pending' ? i.stateReason.message : '') +
      (i.keyName ? el('keyName', i.keyName) : '') +
      el('amiLaunchIndex', 0) +
      el('instanceType', i.instanceType) +
      el('launchTime', i.launchTime) +
      `<placement>${el('availabilityZone', `${this.region}a`)}${el('tenancy', 'default')}</placement>` +
      `<monitoring>${el('state', 'disabled')}</monitoring>` +
      (i.subnetId ? el('subnetId', i.subnetId) : '') +
      el('privateIpAddress', i.privateIp) +
      (i.publicIp ? el('ipAddress', i.publicIp) : '') +
      `<groupSet>${i.securityGroupIds.map((g) => `<item>${el('groupId', g)}${el('groupName', g)}</item>`).join('')}</groupSet>` +
      (i.stateReason && i.state !== 'pending' ? `<stateReason>${el('code', i.stateReason.code)}${el('message', i.stateReason.message)}</stateReason>` : '') +
      el('architecture', 'x86_64') +
      el('rootDeviceType', 'ebs') +
      el('rootDeviceName', '/dev/xvda') +
      (i.clientToken ? el('clientToken', i.clientToken) : '') +
      `<tagSet>${Object.entries(i.tags).map(([k, v]) => `<item>${el('key', k)}${el('value', v)}</item>`).join('')}</tagSet>` +
      '</item>'
    );
  }
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export async function startEc2Fake(options: Ec2FakeOptions = {}): Promise<Ec2Fake> {
  return new Ec2Fake(options).start();
}
