/**
 * What kind of image archive a file is. Occopus's `origin` archives are root-filesystem tarballs
 * that Docker *imports* (the image gets no CMD or ENV); an archive made by `docker save` (or an OCI
 * layout) must be *loaded* instead, with its own config and tags. They are told apart by the
 * top-level `manifest.json` / `index.json` that only the latter has.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export type ArchiveKind = 'saved-image' | 'rootfs';

const BLOCK = 512;
/** Top-level entries only a `docker save` / OCI image archive has. */
const IMAGE_ARCHIVE_MARKERS = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);

function octal(field: Buffer): number {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text ? parseInt(text, 8) : 0;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** `./manifest.json` and `manifest.json` are the same top-level entry. */
function topLevelName(name: string): string | null {
  const clean = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  return clean.includes('/') ? null : clean;
}

/**
 * Walks the tar headers of a stream and reports whether an image-archive marker is at the top level.
 * Data blocks are skipped, never buffered. Understands ustar prefixes, GNU long names and pax paths.
 */
async function scanTar(stream: Readable): Promise<boolean> {
  let pending = Buffer.alloc(0);
  let skip = 0;
  let longName: string | null = null;
  let collectLong: { type: 'L' | 'x'; size: number; data: Buffer[]; got: number } | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (collectLong) {
        const take = Math.min(collectLong.size - collectLong.got, buf.length);
        collectLong.data.push(buf.subarray(0, take));
        collectLong.got += take;
        buf = buf.subarray(take);
        if (collectLong.got < collectLong.size) break;
        const data = Buffer.concat(collectLong.data);
        if (collectLong.type === 'L') longName = cString(data);
        else longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1] ?? longName;
        skip = (BLOCK - (collectLong.size % BLOCK)) % BLOCK;
        collectLong = null;
        continue;
      }
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
        continue;
      }
      if (buf.length < BLOCK) {
        pending = Buffer.from(buf);
        break;
      }
      const header = buf.subarray(0, BLOCK);
      buf = buf.subarray(BLOCK);
      if (header.every((b) => b === 0)) continue; // end-of-archive padding
      const size = octal(header.subarray(124, 136));
      if (!Number.isFinite(size) || size < 0) throw new Error('not a tar archive');
      const type = String.fromCharCode(header[156] ?? 0);
      if (type === 'L' || type === 'x') {
        collectLong = { type, size, data: [], got: 0 };
        continue;
      }
      const prefix = header.subarray(257, 263).toString('latin1').startsWith('ustar') ? cString(header.subarray(345, 500)) : '';
      const own = cString(header.subarray(0, 100));
      const name = longName ?? (prefix ? `${prefix}/${own}` : own);
      longName = null;
      const top = topLevelName(name);
      if (top !== null && IMAGE_ARCHIVE_MARKERS.has(top)) return true;
      skip = Math.ceil(size / BLOCK) * BLOCK;
    }
  }
  return false;
}

async function magic(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(262 + 8);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * `saved-image` for a `docker save` / OCI archive (plain or gzipped tar), `rootfs` for anything
 * else: a root-filesystem tarball, or a compression this scan does not read (bzip2, xz), which
 * `docker import` accepts as Occopus's `fromSrc` did.
 */
export async function archiveKind(path: string): Promise<ArchiveKind> {
  const head = await magic(path);
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const tar = head.subarray(257, 262).toString('latin1') === 'ustar' || /^[\x20-\x7e]/.test(head.subarray(0, 1).toString('latin1'));
  if (!gzipped && !tar) return 'rootfs';
  const file = createReadStream(path);
  const stream = gzipped ? file.pipe(createGunzip()) : file;
  try {
    return (await scanTar(stream)) ? 'saved-image' : 'rootfs';
  } catch {
    // Not a readable tar after all: let Docker judge it (and report what is wrong with it).
    return 'rootfs';
  } finally {
    file.destroy();
    stream.destroy();
  }
}
