/**
 * Making sure a node's image is on the engine before its container is created (plugins §8, step 1).
 * Unlike Occopus, which pulled or imported on every create, an image already present is used as is;
 * a missing one comes from `origin`:
 *
 *   dockerhub         pulled (`image:tag` from Docker Hub, or from the registry named in `image`);
 *   local             must already be on the engine;
 *   URL or path       an archive, downloaded with `fetch` (http/https, with timeouts) or read from
 *                     disk (absolute path or file:// URL); a root-filesystem tarball is imported as
 *                     `image:tag` (what Occopus did), a `docker save` archive is loaded (and tagged
 *                     `image:tag` if it holds a single image under another name).
 *
 * Progress streams are read to the end and an error reported inside them fails the create (Occopus
 * missed those). Images are never removed by occopus.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { DriverError, OccopusError } from '../../errors.js';
import { CancelledError, throwIfAborted } from '../../util/abort.js';
import type { DriverLogger } from '../resource-handler.js';
import { archiveKind } from './archive.js';
import { describeDockerError, isUnreachable, statusOf } from './errors.js';

/** Label put on images occopus imported, naming where they came from. */
export const ORIGIN_LABEL = 'occopus.origin';

export interface DownloadTimeouts {
  /** Until the server has answered with its headers. */
  responseMs: number;
  /** Longest pause between two pieces of the body. */
  idleMs: number;
}

export const DEFAULT_DOWNLOAD_TIMEOUTS: DownloadTimeouts = { responseMs: 30_000, idleMs: 60_000 };

export type Origin = { kind: 'dockerhub' } | { kind: 'local' } | { kind: 'file'; path: string } | { kind: 'url'; url: string };

export function parseOrigin(origin: string): Origin {
  if (origin === 'dockerhub') return { kind: 'dockerhub' };
  if (origin === 'local') return { kind: 'local' };
  if (origin.startsWith('/')) return { kind: 'file', path: origin };
  if (origin.startsWith('file://')) return { kind: 'file', path: fileURLToPath(origin) };
  if (/^https?:\/\//.test(origin)) return { kind: 'url', url: origin };
  throw new DriverError(
    `docker: origin '${displayOrigin(origin)}' is not 'dockerhub', 'local', an http(s):// or file:// URL, or an absolute path`,
  );
}

/** The origin as it may appear in messages and labels: a signed URL's query is a credential. */
export function displayOrigin(origin: string): string {
  if (!/^[a-z]+:\/\//.test(origin)) return origin;
  try {
    const url = new URL(origin);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return origin.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
}

/** Reads a Docker progress stream (JSON lines) to its end; throws the first error reported in it. */
export async function readProgress(stream: NodeJS.ReadableStream, signal?: AbortSignal): Promise<string[]> {
  const messages: string[] = [];
  let rest = '';
  let error: string | null = null;
  const take = (line: string): void => {
    if (!line.trim()) return;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      messages.push(line.trim());
      return;
    }
    if (typeof event !== 'object' || event === null) return;
    const e = event as { error?: unknown; errorDetail?: { message?: unknown }; stream?: unknown; status?: unknown };
    const problem = typeof e.errorDetail?.message === 'string' ? e.errorDetail.message : e.error;
    if (typeof problem === 'string' && error === null) error = problem;
    for (const text of [e.stream, e.status]) if (typeof text === 'string' && text.trim()) messages.push(text.trim());
  };
  const onAbort = (): void => {
    (stream as NodeJS.ReadableStream & { destroy?: (e?: Error) => void }).destroy?.(new CancelledError());
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      rest += chunk.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        take(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  throwIfAborted(signal);
  take(rest);
  if (error !== null) throw new DriverError(error);
  return messages;
}

/** Streams an http(s) download into `file`, failing when the server is silent for too long. */
export async function download(url: string, file: string, signal: AbortSignal, timeouts: DownloadTimeouts): Promise<void> {
  const shown = displayOrigin(url);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  let timedOut: string | null = null;
  const arm = (ms: number, what: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = what;
      controller.abort(new Error(what));
    }, ms);
  };
  try {
    arm(timeouts.responseMs, `no answer within ${timeouts.responseMs / 1000} s`);
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new DriverError(`docker: downloading the image archive ${shown} failed: HTTP ${response.status} ${response.statusText}`);
    }
    const out = createWriteStream(file, { mode: 0o600 });
    const closed = new Promise<void>((resolve, reject) => {
      out.once('close', resolve);
      out.once('error', reject);
    });
    try {
      arm(timeouts.idleMs, `no data for ${timeouts.idleMs / 1000} s`);
      for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm(timeouts.idleMs, `no data for ${timeouts.idleMs / 1000} s`);
        if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
    } finally {
      out.end();
      await closed;
    }
  } catch (e) {
    throwIfAborted(signal);
    if (e instanceof OccopusError) throw e;
    const reason = timedOut ?? ((e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message);
    throw new DriverError(`docker: downloading the image archive ${shown} failed: ${reason}`, e);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

export interface ImageRequest {
  image: string;
  tag: string;
  origin: string;
}

export interface ImageContext {
  docker: Dockerode;
  endpoint: string;
  log: DriverLogger;
  timeouts: DownloadTimeouts;
}

export function imageRef(image: string, tag: string): string {
  return `${image}:${tag}`;
}

export async function imageExists(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if (statusOf(e) === 404) return false;
    throw e;
  }
}

/** Ensures `image:tag` is on the engine, fetching it from `origin` when it is missing. */
export async function ensureImage(ctx: ImageContext, req: ImageRequest, signal: AbortSignal): Promise<void> {
  const ref = imageRef(req.image, req.tag);
  const origin = parseOrigin(req.origin);
  const what = `image ${ref}`;
  try {
    if (await imageExists(ctx.docker, ref)) return;
    throwIfAborted(signal);
    switch (origin.kind) {
      case 'local':
        throw new DriverError(`docker: ${what} is not on the Docker engine at ${ctx.endpoint}, and origin 'local' says not to fetch it`);
      case 'dockerhub': {
        ctx.log.info(`docker: pulling ${ref}`);
        const pulled = async (): Promise<void> => void (await readProgress(await ctx.docker.pull(ref, { abortSignal: signal }), signal));
        await pulled().catch((e: unknown) => {
          throwIfAborted(signal);
          if (isUnreachable(e)) throw e;
          throw new DriverError(`docker: pulling ${ref} failed: ${describeDockerError(e)}`, e);
        });
        break;
      }
      case 'file':
        await loadArchive(ctx, req, origin.path, req.origin, signal);
        break;
      case 'url': {
        const dir = await mkdtemp(join(tmpdir(), 'occopus-image-'));
        try {
          const file = join(dir, 'image.tar');
          ctx.log.info(`docker: downloading ${displayOrigin(origin.url)} for ${ref}`);
          await download(origin.url, file, signal, ctx.timeouts);
          throwIfAborted(signal);
          await loadArchive(ctx, req, file, req.origin, signal);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
        break;
      }
    }
    throwIfAborted(signal);
    if (!(await imageExists(ctx.docker, ref))) {
      throw new DriverError(`docker: ${what} is still missing after fetching it from '${displayOrigin(req.origin)}'`);
    }
  } catch (e) {
    throwIfAborted(signal);
    if (e instanceof OccopusError) throw e;
    const reason = describeDockerError(e);
    if (isUnreachable(e)) throw new DriverError(`docker: cannot reach the Docker engine at ${ctx.endpoint} (${reason})`, e);
    throw new DriverError(`docker: could not provide ${what}: ${reason}`, e);
  }
}

async function loadArchive(ctx: ImageContext, req: ImageRequest, path: string, origin: string, signal: AbortSignal): Promise<void> {
  const ref = imageRef(req.image, req.tag);
  const shown = displayOrigin(origin);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
  } catch {
    throw new DriverError(`docker: the image archive ${shown} for ${ref} does not exist or is not a file`);
  }
  const kind = await archiveKind(path);
  if (kind === 'rootfs') {
    ctx.log.info(`docker: importing ${shown} as ${ref}`);
    const stream = await ctx.docker.importImage(createReadStream(path), {
      repo: req.image,
      tag: req.tag,
      changes: [`LABEL ${ORIGIN_LABEL}=${JSON.stringify(shown)}`],
      abortSignal: signal,
    });
    await readProgress(stream, signal).catch((e: unknown) => {
      throw new DriverError(`docker: importing ${shown} as ${ref} failed: ${describeDockerError(e)}`, e);
    });
    return;
  }
  ctx.log.info(`docker: loading ${shown} for ${ref}`);
  const stream = await ctx.docker.loadImage(createReadStream(path), { abortSignal: signal });
  const messages = await readProgress(stream, signal).catch((e: unknown) => {
    throw new DriverError(`docker: loading ${shown} failed: ${describeDockerError(e)}`, e);
  });
  if (await imageExists(ctx.docker, ref)) return;
  const loaded = messages.flatMap((m) => /^Loaded image(?: ID)?: (\S+)$/.exec(m)?.[1] ?? []);
  if (loaded.length !== 1) {
    throw new DriverError(
      `docker: the archive ${shown} holds ${loaded.length === 0 ? 'no image' : loaded.join(', ')}, not ${ref}`,
    );
  }
  await ctx.docker.getImage(loaded[0] as string).tag({ repo: req.image, tag: req.tag });
}
