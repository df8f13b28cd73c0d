/**
 * The `ec2` resource driver on `@aws-sdk/client-ec2`, for Amazon EC2 and any EC2-compatible
 * endpoint (plugins §2). Differences from Occopus, on purpose:
 * - `ClientToken` = the node id, so a retried or replayed RunInstances never starts a second VM;
 *   the node id and infra id are also tags (set atomically by RunInstances), so `find` works after
 *   a crash;
 * - drop is TerminateInstances alone (Occopus stopped first, and a failing stop kept the VM, bug 7),
 *   and an instance already gone counts as dropped;
 * - throttling and 5xx answers are retried with backoff, and every call has a deadline;
 * - a create that fails or is cancelled after RunInstances terminates what it started.
 */
import { isIP } from 'node:net';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Filter,
  type Instance,
  type RunInstancesCommandInput,
  type Tag,
} from '@aws-sdk/client-ec2';
import type { ResourceSection } from '../../descriptors/types.js';
import { AuthError, DriverError, OccopusError } from '../../errors.js';
import type { ResolvedNode } from '../../resolution/resolve.js';
import { CancelledError, throwIfAborted } from '../../util/abort.js';
import {
  DEFAULT_RETRY_POLICY,
  abortText,
  boundedSignal,
  deadlineIn,
  pollUntil,
  type RetryPolicy,
} from '../http-retry.js';
import type {
  Addresses,
  CreateOptions,
  CreatedInstance,
  DriverContext,
  DriverLogger,
  InstanceHandle,
  ResourceHandler,
  ResourceState,
} from '../resource-handler.js';
import { Ec2RetryStrategy } from './retry.js';

// The SDK warns on stderr, once per process, that its releases after January 2027 need Node 22; that
// is a note for whoever upgrades the dependency, not for users reading a build's output.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

/** EC2 takes at most 16 KB of user data before base64 encoding. */
export const EC2_USER_DATA_LIMIT = 16 * 1024;
export const NODE_ID_TAG = 'occopus:node_id';
export const INFRA_ID_TAG = 'occopus:infra_id';

/** States `find` may adopt: not on its way out. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

const STATE_MAP: Record<string, ResourceState> = {
  pending: 'pending',
  running: 'ready',
  'shutting-down': 'shutdown',
  terminated: 'shutdown',
  stopping: 'temp_failed',
  stopped: 'temp_failed',
};

/** Errors meaning "no such instance": it is gone (or never was). */
const NOT_FOUND_CODES = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);
const AUTH_CODES = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
  'Blocked',
]);

export interface Ec2HandlerOptions {
  retry?: RetryPolicy;
  /** Deadline of one API call, retries included (default 60 s). */
  callDeadlineMs?: number;
  /** Timeout of one HTTP attempt (default 20 s). */
  requestTimeoutMs?: number;
}

export interface Ec2Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** `accesskey`/`secretkey` of the selected auth_data entry (formats §7.3), or an AuthError naming the endpoint. */
export function ec2Credentials(auth: Record<string, unknown> | null, endpoint: string): Ec2Credentials {
  const accessKeyId = auth?.['accesskey'];
  const secretAccessKey = auth?.['secretkey'];
  if (typeof accessKeyId !== 'string' || !accessKeyId || typeof secretAccessKey !== 'string' || !secretAccessKey) {
    const present = auth ? Object.keys(auth).filter((k) => k !== 'accesskey' && k !== 'secretkey') : [];
    throw new AuthError(
      `Cannot find credentials for "${endpoint}". Please, specify! (an auth_data entry of type ec2 needs accesskey and secretkey` +
        (present.length ? `; the matching entry has only ${present.join(', ')})` : ')'),
    );
  }
  return { accessKeyId, secretAccessKey };
}

/** The endpoint as the SDK wants it: a URL (a bare host name means https, as boto did). */
export function ec2EndpointUrl(endpoint: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new DriverError(`ec2: endpoint '${endpoint}' is not a URL (expected e.g. https://ec2.eu-west-1.amazonaws.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DriverError(`ec2: endpoint '${endpoint}' must be an http or https URL`);
  return url.toString().replace(/\/$/, '');
}

/** User tags in either form (mapping, or the documented `[{Key, Value}]` list), then ours. */
export function instanceTags(resource: ResourceSection, nodeId: string, infraId: string): Tag[] {
  const tags = new Map<string, string>();
  const given = resource['tags'];
  if (Array.isArray(given)) {
    for (const t of given) {
      if (t && typeof t === 'object' && 'Key' in t) tags.set(String((t as { Key: unknown }).Key), String((t as { Value?: unknown }).Value ?? ''));
    }
  } else if (given && typeof given === 'object') {
    for (const [k, v] of Object.entries(given as Record<string, unknown>)) tags.set(k, v === null || v === undefined ? '' : String(v));
  }
  tags.set(NODE_ID_TAG, nodeId);
  tags.set(INFRA_ID_TAG, infraId);
  return [...tags].map(([Key, Value]) => ({ Key, Value }));
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function sdkError(e: unknown): SdkError {
  return typeof e === 'object' && e !== null ? (e as SdkError) : { message: String(e) };
}

function idOrEmpty(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export class Ec2ResourceHandler implements ResourceHandler {
  private readonly client: EC2Client;
  private readonly endpoint: string;
  private readonly credentials: Ec2Credentials;
  private readonly callDeadlineMs: number;
  /** The retry strategy, visible to tests. */
  readonly retryStrategy: Ec2RetryStrategy;

  constructor(
    private readonly resource: ResourceSection,
    auth: Record<string, unknown> | null,
    private readonly log: DriverLogger,
    options: Ec2HandlerOptions = {},
  ) {
    const endpoint = idOrEmpty(resource['endpoint']);
    this.credentials = ec2Credentials(auth, endpoint);
    this.endpoint = ec2EndpointUrl(endpoint);
    const region = idOrEmpty(resource['regionname']);
    if (!region) throw new DriverError(`ec2: 'regionname' is required`);
    // The SDK signs with the region and accepts only host-name labels; say so instead of failing each call.
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(region)) {
      throw new DriverError(`ec2: regionname '${region}' is not a valid region name (letters, digits and hyphens, e.g. eu-west-1)`);
    }
    const policy = options.retry ?? DEFAULT_RETRY_POLICY;
    this.callDeadlineMs = options.callDeadlineMs ?? 60_000;
    this.retryStrategy = new Ec2RetryStrategy(policy);
    this.client = new EC2Client({
      endpoint: this.endpoint,
      region,
      credentials: { ...this.credentials },
      retryStrategy: this.retryStrategy,
      maxAttempts: policy.maxAttempts,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 20_000, connectionTimeout: 10_000 },
    });
  }

  async create(node: ResolvedNode, { idempotencyKey: key, signal }: CreateOptions): Promise<CreatedInstance> {
    throwIfAborted(signal);
    const input = this.runInput(node, key);
    const existing = await this.find(key);
    if (existing) return existing;
    throwIfAborted(signal);

    let instance: Instance | undefined;
    try {
      const out = await this.call('RunInstances', (s) => this.client.send(new RunInstancesCommand(input), { abortSignal: s }), signal);
      instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new DriverError(`ec2: RunInstances at ${this.endpoint} returned no instance`);
      const state = instance.State?.Name ?? 'pending';
      if (state === 'shutting-down' || state === 'terminated') {
        throw new DriverError(`ec2: the instance started earlier for node ${key} (${instance.InstanceId}) is already ${state}`);
      }
      // EC2-compatible clouds that ignore TagSpecifications get the tags afterwards.
      if (!instance.Tags?.some((t) => t.Key === NODE_ID_TAG && t.Value === key)) await this.tagLater(instance.InstanceId, input.TagSpecifications?.[0]?.Tags ?? [], signal);
      throwIfAborted(signal);
      this.log.debug('ec2 instance started', { instance_id: instance.InstanceId, node_id: key });
      return { instance_id: instance.InstanceId, driver_data: {} };
    } catch (e) {
      await this.rollback(instance?.InstanceId, input, e);
      throw e;
    }
  }

  async find(key: string, _context?: { infra_id: string; resource: ResourceSection }): Promise<CreatedInstance | null> {
    const state: Filter = { Name: 'instance-state-name', Values: LIVE_STATES };
    for (const filter of [{ Name: `tag:${NODE_ID_TAG}`, Values: [key] }, { Name: 'client-token', Values: [key] }]) {
      const out = await this.call('DescribeInstances', (s) =>
        this.client.send(new DescribeInstancesCommand({ Filters: [filter, state] }), { abortSignal: s }),
      );
      const found = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId);
      if (found?.InstanceId) return { instance_id: found.InstanceId, driver_data: {} };
    }
    return null;
  }

  async drop(handle: InstanceHandle, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!handle.instance_id) return;
    await this.terminate(handle.instance_id, options.signal);
  }

  async getState(handle: InstanceHandle): Promise<ResourceState> {
    const instance = await this.describe(handle.instance_id);
    if (!instance) return 'unknown';
    return STATE_MAP[instance.State?.Name ?? ''] ?? 'unknown';
  }

  async getAddresses(handle: InstanceHandle): Promise<Addresses> {
    const instance = await this.describe(handle.instance_id);
    // Only IP addresses: getip and the health checks need one, and the public DNS name resolves to the same.
    const ip = (a: string | undefined): string[] => (a && isIP(a) ? [a] : []);
    return { public: ip(instance?.PublicIpAddress), private: ip(instance?.PrivateIpAddress) };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // ---------------------------------------------------------------------------------------------

  private runInput(node: ResolvedNode, key: string): RunInstancesCommandInput {
    const r = this.resource;
    const input: RunInstancesCommandInput = {
      ImageId: idOrEmpty(r['image_id']),
      InstanceType: idOrEmpty(r['instance_type']) as RunInstancesCommandInput['InstanceType'],
      MinCount: 1,
      MaxCount: 1,
      ClientToken: key,
      TagSpecifications: [{ ResourceType: 'instance', Tags: instanceTags(r, key, node.infra_id) }],
    };
    const keyName = idOrEmpty(r['key_name']);
    if (keyName) input.KeyName = keyName;
    const subnet = idOrEmpty(r['subnet_id']);
    if (subnet) input.SubnetId = subnet;
    const groups = Array.isArray(r['security_group_ids']) ? r['security_group_ids'].map(idOrEmpty).filter(Boolean) : [];
    if (groups.length) input.SecurityGroupIds = groups;
    if (node.context) {
      const bytes = Buffer.byteLength(node.context, 'utf8');
      if (bytes > EC2_USER_DATA_LIMIT) {
        throw new DriverError(
          `ec2: the rendered cloud-init of node '${node.name}' is ${bytes} bytes, but EC2 accepts at most ${EC2_USER_DATA_LIMIT} bytes of user data`,
        );
      }
      input.UserData = Buffer.from(node.context, 'utf8').toString('base64');
    }
    return input;
  }

  private async tagLater(instanceId: string, tags: Tag[], signal: AbortSignal): Promise<void> {
    // A new instance may not be visible to CreateTags for a moment (eventual consistency).
    await pollUntil(
      async () => {
        try {
          await this.call('CreateTags', (s) => this.client.send(new CreateTagsCommand({ Resources: [instanceId], Tags: tags }), { abortSignal: s }), signal);
          return true;
        } catch (e) {
          if (e instanceof Ec2ApiError && e.ec2Code === 'InvalidInstanceID.NotFound') return undefined;
          throw e;
        }
      },
      { deadline: deadlineIn(this.callDeadlineMs, `ec2: tagging ${instanceId}`), signal, intervalMs: 200 },
    );
  }

  /**
   * Undoes a create that failed or was cancelled. If RunInstances itself was interrupted, it may or
   * may not have taken effect: replaying it with the same ClientToken returns the instance if it
   * did (and starts one if it did not), which is then terminated. Nothing is left either way.
   */
  private async rollback(instanceId: string | undefined, input: RunInstancesCommandInput, cause: unknown): Promise<void> {
    try {
      let id = instanceId;
      if (!id && (cause instanceof CancelledError || isInterrupted(cause))) {
        const replay = await this.call('RunInstances', (s) => this.client.send(new RunInstancesCommand(input), { abortSignal: s }));
        id = replay.Instances?.[0]?.InstanceId;
      }
      if (id) await this.terminate(id);
    } catch (e) {
      // The journal keeps the node's record, and the next pass finds the instance by its tag or token.
      this.log.warn(`ec2: could not undo the failed create: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async terminate(instanceId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('TerminateInstances', (s) => this.client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: s }), signal);
    } catch (e) {
      if (e instanceof Ec2ApiError && NOT_FOUND_CODES.has(e.ec2Code)) return;
      throw e;
    }
  }

  private async describe(instanceId: string): Promise<Instance | null> {
    if (!instanceId) return null;
    try {
      const out = await this.call('DescribeInstances', (s) =>
        this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal: s }),
      );
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId) ?? null;
    } catch (e) {
      if (e instanceof Ec2ApiError && NOT_FOUND_CODES.has(e.ec2Code)) return null;
      throw e;
    }
  }

  /** One SDK call under a deadline (the SDK retries inside it) with its errors made ours. */
  private async call<T>(operation: string, send: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = deadlineIn(this.callDeadlineMs, `ec2 ${operation} at ${this.endpoint}`);
    const bounded = boundedSignal(signal, deadline);
    try {
      return await send(bounded.signal);
    } catch (e) {
      if (signal?.aborted) throw new CancelledError(abortText(signal));
      if (bounded.signal.aborted && bounded.signal.reason instanceof OccopusError) throw bounded.signal.reason;
      throw this.translate(operation, e);
    } finally {
      bounded.dispose();
    }
  }

  private translate(operation: string, e: unknown): Error {
    const err = sdkError(e);
    const code = err.name ?? 'Error';
    const message = this.scrub(err.message ?? '');
    const status = err.$metadata?.httpStatusCode;
    if (AUTH_CODES.has(code) || status === 401 || status === 403) {
      return new AuthError(`ec2: ${this.endpoint} refused the credentials of the auth_data entry (${code}: ${message})`);
    }
    if (status === undefined) {
      const net = err.code ? ` (${err.code})` : '';
      return new DriverError(`ec2: cannot reach ${this.endpoint} for ${operation}${net}: ${message}`);
    }
    return new Ec2ApiError(operation, this.endpoint, code, message, status);
  }

  /** Error texts come from the server; make sure they never carry our keys. */
  private scrub(text: string): string {
    return text.split(this.credentials.secretAccessKey).join('***').split(this.credentials.accessKeyId).join('***');
  }
}

/** A refusal by the EC2 API, with its error code. */
export class Ec2ApiError extends DriverError {
  constructor(
    operation: string,
    endpoint: string,
    readonly ec2Code: string,
    message: string,
    readonly status: number,
  ) {
    super(`ec2 ${operation} at ${endpoint} failed: ${ec2Code}: ${message}`);
  }
}

/** A failure after which RunInstances may or may not have taken effect (deadline, network, 5xx). */
function isInterrupted(e: unknown): boolean {
  if (e instanceof AuthError) return false;
  if (e instanceof Ec2ApiError) return e.status >= 500;
  return e instanceof OccopusError;
}

export function createEc2Handler(
  resource: ResourceSection,
  context: Pick<DriverContext, 'auth' | 'log'>,
  options: Ec2HandlerOptions = {},
): Ec2ResourceHandler {
  return new Ec2ResourceHandler(resource, context.auth, context.log, options);
}
