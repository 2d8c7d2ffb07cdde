/**
 * Layer tar entries as plain data, and reading them from a tar stream with tar-stream (which
 * handles ustar, GNU long names, PAX and base-256 numbers). tar-stream decodes PAX values as UTF-8
 * text, which corrupts binary xattr values such as `security.capability`, so the raw bytes of each
 * PAX header are kept beside its decoded copy. Writing is in layer-tar-write.ts.
 */
import { Buffer } from 'node:buffer';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import type { Xattr } from './fs-meta.ts';
import { LayerError } from './layer-error.ts';

/** The kinds of entries a layer holds (tar typeflags 0-6; `link` is a hardlink). */
export type LayerEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'link'
  | 'character-device'
  | 'block-device'
  | 'fifo';

/**
 * One entry of a layer tar, as plain data. Written by `packLayer`, read by `applyLayer` and
 * `listLayer`. Whiteouts are ordinary empty `file` entries named `.wh.<name>`, and an opaque
 * directory marker is one named `<dir>/.wh..wh..opq` (the OCI layer spec's encoding).
 */
export interface LayerEntry {
  /** The name as stored (PAX `path` wins over the ustar name); directories may end in `/`. */
  path: string;
  type: LayerEntryType;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  uid: number;
  gid: number;
  /** Content length; 0 for everything but `file`. */
  size: number;
  /** Modification time in seconds since the epoch (PAX may carry a fraction). */
  mtime: number;
  /** Symlink target verbatim, or the hardlink's target entry path; '' otherwise. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` records, in archive order. */
  xattrs: Xattr[];
}

/** Prefix of a whiteout entry's base name: `.wh.<name>` deletes `<name>` from lower layers. */
export const WHITEOUT_PREFIX = '.wh.';
/** Base name of the entry that makes its directory opaque (hides all lower content). */
export const OPAQUE_MARKER = '.wh..wh..opq';

/** A read entry and its content, which must be consumed (or left to the reader to drain). */
interface TarEntry {
  entry: LayerEntry;
  body: AsyncIterable<Buffer>;
}

/** PAX record key prefix of an extended attribute (GNU tar, Go archive/tar, BuildKit). */
export const XATTR_PREFIX = 'SCHILY.xattr.';
const LIBARCHIVE_XATTR_PREFIX = 'LIBARCHIVE.xattr.';

/** Parses PAX records keeping values as raw bytes. Malformed records end the parse. */
function decodePax(buf: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number.parseInt(buf.subarray(at, space).toString('latin1'), 10);
    if (!(len > 0) || at + len > buf.length) break;
    const record = buf.subarray(space + 1, at + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) break;
    records.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    at += len;
  }
  return records;
}

interface ExtractInternals {
  _header: { type: string } | null;
  _decodeLongHeader(buf: Buffer): void;
}

/**
 * Reads an uncompressed tar stream entry by entry. Each body must be consumed before asking for
 * the next entry; a body left unread is drained here. Throws `LayerError` for unsupported types.
 */
export async function* readTarEntries(tar: AsyncIterable<Uint8Array> | Readable): AsyncGenerator<TarEntry> {
  const extract = tarStream.extract();
  // Keep the raw bytes of PAX headers: tar-stream decodes values as UTF-8, which is lossy for
  // binary xattrs. The hook wraps tar-stream 3.x's internal decoder for long headers.
  const internals = extract as unknown as ExtractInternals;
  const decodeLongHeader = internals._decodeLongHeader;
  const pax: { local: Map<string, Buffer> | null; global: Map<string, Buffer> | null } = {
    local: null,
    global: null,
  };
  internals._decodeLongHeader = function (this: ExtractInternals, buf: Buffer) {
    if (this._header?.type === 'pax-header') pax.local = decodePax(buf);
    if (this._header?.type === 'pax-global-header') pax.global = decodePax(buf);
    decodeLongHeader.call(this, buf);
  };

  const feeding = pipeline(tar, extract as unknown as NodeJS.WritableStream);
  feeding.catch(() => {}); // observed below; this only prevents an unhandled rejection meanwhile
  let completed = false;
  try {
    for await (const source of extract) {
      const header = source.header;
      const raw = new Map<string, Buffer>(pax.global ?? []);
      if (header.pax && pax.local) for (const [key, value] of pax.local) raw.set(key, value);
      pax.local = null;
      const entry = toLayerEntry(header, raw);
      const body = readBody(source as unknown as BodySource);
      yield { entry, body };
      for await (const _ of body) {
        // drain what the consumer left unread, so the parser moves to the next header
      }
    }
    completed = true;
  } finally {
    if (!completed) extract.destroy();
  }
  await feeding;
}

interface BodySource extends AsyncIterable<Buffer> {
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * An entry's content as an async generator. Node's stream.pipeline does not notice when a streamx
 * source is destroyed (a truncated archive would hang the copy), and streamx's iterator rejects
 * with a generic "Stream was destroyed"; a generator fails properly, with the real cause.
 */
function readBody(source: BodySource): AsyncGenerator<Buffer> {
  let failure: Error | undefined;
  source.on('error', (error) => {
    failure = error;
  });
  return (async function* () {
    try {
      for await (const chunk of source) yield chunk;
    } catch (error) {
      throw failure ?? error;
    }
  })();
}

function toLayerEntry(header: tarStream.Header, raw: Map<string, Buffer>): LayerEntry {
  const textPax = (header.pax ?? {}) as Record<string, string>;
  const hasTextXattr = Object.keys(textPax).some((key) => key.startsWith(XATTR_PREFIX));
  const hasRawXattr = [...raw.keys()].some((key) => key.startsWith(XATTR_PREFIX));
  if (hasTextXattr && !hasRawXattr)
    throw new Error('tar-stream PAX hook inactive: xattrs would be corrupted');

  const type = header.type === 'contiguous-file' ? 'file' : header.type;
  if (!isEntryType(type)) {
    throw new LayerError(header.name, `unsupported tar entry type ${String(header.type)}`);
  }
  const xattrs: Xattr[] = [];
  const seen = new Set<string>();
  for (const [key, value] of raw) {
    if (key.startsWith(XATTR_PREFIX)) {
      const name = key.slice(XATTR_PREFIX.length);
      xattrs.push([name, value]);
      seen.add(name);
    }
  }
  // bsdtar writes xattrs as LIBARCHIVE.xattr.<url-encoded name>=<base64 value>.
  for (const [key, value] of raw) {
    if (!key.startsWith(LIBARCHIVE_XATTR_PREFIX)) continue;
    const name = decodeURIComponent(key.slice(LIBARCHIVE_XATTR_PREFIX.length));
    if (!seen.has(name)) xattrs.push([name, Buffer.from(value.toString('latin1'), 'base64')]);
  }
  const numberRecord = (key: string, fallback: number): number => {
    const value = raw.get(key);
    if (value === undefined) return fallback;
    const parsed = Number(value.toString('latin1'));
    if (!Number.isFinite(parsed)) throw new LayerError(header.name, `invalid PAX ${key} record`);
    return parsed;
  };
  return {
    path: header.name,
    type,
    mode: header.mode & 0o7777,
    uid: numberRecord('uid', header.uid),
    gid: numberRecord('gid', header.gid),
    size: type === 'file' ? header.size : 0,
    mtime: numberRecord('mtime', header.mtime.getTime() / 1000),
    linkname: header.linkname ?? '',
    devmajor: header.devmajor,
    devminor: header.devminor,
    xattrs,
  };
}

const ENTRY_TYPES: ReadonlySet<string> = new Set<LayerEntryType>([
  'file',
  'directory',
  'symlink',
  'link',
  'character-device',
  'block-device',
  'fifo',
]);

function isEntryType(type: string | null): type is LayerEntryType {
  return type !== null && ENTRY_TYPES.has(type);
}
