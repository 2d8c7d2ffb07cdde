/**
 * Encodes layer entries as tar bytes: POSIX ustar headers plus a PAX extended header when a field
 * does not fit (the layout Go's archive/tar writes for BuildKit in PAX mode).
 *
 * Hand-written instead of tar-stream's `pack` because tar-stream (3.2) builds PAX records as UTF-8
 * text, which corrupts binary xattr values such as `security.capability`; it cannot emit a PAX
 * header of our own either (its non-file entries refuse a body), it clamps uid/gid to 6 octal
 * digits, and it writes mtimes as int32. Reading still goes through tar-stream (layer-tar.ts).
 */
import { Buffer } from 'node:buffer';
import { compareBytes } from './fs-meta.ts';
import { type LayerEntry, type LayerEntryType, XATTR_PREFIX } from './layer-tar.ts';

const BLOCK = 512;
const TYPEFLAGS: Record<LayerEntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};
const OCTAL7_MAX = 0o7777777;
const OCTAL11_MAX = 0o77777777777;
// Readers that allow only 6 octal digits for ids exist (tar-stream among them), so ids above
// 0o777777 also get PAX uid/gid records.
const PORTABLE_ID_MAX = 0o777777;

type PaxRecord = readonly [key: string, value: Buffer];

/**
 * The bytes of one entry: a PAX header when needed, the ustar header, then `body` (required for a
 * non-empty file, and it must yield exactly `entry.size` bytes) padded to a block.
 */
export async function* encodeTarEntry(
  entry: LayerEntry,
  body?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Buffer> {
  const headers: Buffer[] = [];
  const size = writeHeaders(entry, (n) => {
    const region = Buffer.alloc(n);
    headers.push(region);
    return region;
  });
  yield* headers;
  if (size === 0) return;
  if (body === undefined) throw new Error('no content given for a non-empty file');
  let written = 0;
  for await (const chunk of body) {
    written += chunk.length;
    if (written > size) break;
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  }
  if (written !== size) throw changedSize(size);
  const padding = paddingFor(size);
  if (padding > 0) yield Buffer.alloc(padding);
}

/**
 * Tar bytes gathered in large zero-filled chunks: entries whose body is in memory are written
 * straight into them (headers, body, padding), with no buffer or stream chunk per piece. A layer
 * of 20,000 small files spent more time allocating and passing ~80,000 small buffers than reading
 * the files.
 */
export class TarBuffer {
  readonly #chunkSize: number;
  #chunk: Buffer | undefined;
  #pos = 0;
  #done: Buffer[] = [];
  #bytes = 0;

  constructor(chunkSize = 256 << 10) {
    this.#chunkSize = chunkSize;
  }

  /** Bytes written and not yet taken by {@link drain}. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The same bytes {@link encodeTarEntry} yields, for a body given whole (or none). */
  writeEntry(entry: LayerEntry, body?: Uint8Array): void {
    const size = writeHeaders(entry, (n) => this.#take(n));
    if (size === 0) return;
    if (body === undefined) throw new Error('no content given for a non-empty file');
    if (body.length !== size) throw changedSize(size);
    this.#take(size + paddingFor(size)).set(body);
  }

  /** The end-of-archive marker. */
  writeTrailer(): void {
    this.#take(2 * BLOCK);
  }

  /** Everything written so far, in order; the buffer is empty afterwards. */
  drain(): Buffer[] {
    if (this.#chunk && this.#pos > 0) this.#done.push(this.#chunk.subarray(0, this.#pos));
    this.#chunk = undefined;
    this.#pos = 0;
    this.#bytes = 0;
    const done = this.#done;
    this.#done = [];
    return done;
  }

  /** A zero-filled region of `n` bytes appended to the output. */
  #take(n: number): Buffer {
    if (!this.#chunk || this.#chunk.length - this.#pos < n) {
      if (this.#chunk && this.#pos > 0) this.#done.push(this.#chunk.subarray(0, this.#pos));
      this.#chunk = Buffer.alloc(Math.max(this.#chunkSize, n));
      this.#pos = 0;
    }
    const region = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.#bytes += n;
    return region;
  }
}

function changedSize(size: number): Error {
  return new Error(`file changed size while packing (expected ${size} bytes)`);
}

/**
 * Writes an entry's headers (a PAX header and its records when needed, then the ustar header)
 * into zero-filled regions `take` hands out, in order; returns the size of the body to follow.
 */
function writeHeaders(entry: LayerEntry, take: (n: number) => Buffer): number {
  const isDir = entry.type === 'directory';
  const name = isDir && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const size = entry.type === 'file' ? entry.size : 0;
  const records: PaxRecord[] = [];
  const split = splitUstarName(name);
  if (split === undefined) records.push(['path', Buffer.from(name)]);
  const linkFits = isAscii(entry.linkname) && entry.linkname.length <= 100;
  if (!linkFits) records.push(['linkpath', Buffer.from(entry.linkname)]);
  if (entry.uid > PORTABLE_ID_MAX) records.push(['uid', Buffer.from(String(entry.uid))]);
  if (entry.gid > PORTABLE_ID_MAX) records.push(['gid', Buffer.from(String(entry.gid))]);
  if (size > OCTAL11_MAX) records.push(['size', Buffer.from(String(size))]);
  const timeFits = Number.isInteger(entry.mtime) && entry.mtime >= 0 && entry.mtime <= OCTAL11_MAX;
  if (!timeFits) records.push(['mtime', Buffer.from(String(entry.mtime))]);
  for (const [key, value] of entry.xattrs) records.push([XATTR_PREFIX + key, value]);
  records.sort((a, b) => compareBytes(a[0], b[0]));

  const mtime = timeFits ? entry.mtime : Math.min(Math.max(Math.floor(entry.mtime), 0), OCTAL11_MAX);
  if (records.length > 0) {
    const pax = encodePax(records);
    const region = take(BLOCK + pax.length + paddingFor(pax.length));
    encodeHeader(region, {
      name: 'PaxHeader',
      prefix: '',
      typeflag: 'x',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: pax.length,
      mtime,
      linkname: '',
      devmajor: 0,
      devminor: 0,
    });
    region.set(pax, BLOCK);
  }
  encodeHeader(take(BLOCK), {
    name: split?.name ?? asciiPrefix(name),
    prefix: split?.prefix ?? '',
    typeflag: TYPEFLAGS[entry.type],
    mode: entry.mode & 0o7777,
    uid: Math.min(entry.uid, OCTAL7_MAX),
    gid: Math.min(entry.gid, OCTAL7_MAX),
    size: size > OCTAL11_MAX ? 0 : size,
    mtime,
    linkname: linkFits ? entry.linkname : asciiPrefix(entry.linkname),
    devmajor: entry.devmajor,
    devminor: entry.devminor,
  });
  return size;
}

interface RawHeader {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/**
 * One ustar header block (POSIX.1-2001 layout, checksum over the block with spaces for itself),
 * written into the first 512 bytes of `block`, which must be zero-filled.
 */
function encodeHeader(block: Buffer, h: RawHeader): void {
  block.write(h.name, 0, 100, 'latin1');
  writeOctal(block, 100, 8, h.mode);
  writeOctal(block, 108, 8, h.uid);
  writeOctal(block, 116, 8, h.gid);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, h.mtime);
  block.write(h.typeflag, 156, 1, 'latin1');
  block.write(h.linkname, 157, 100, 'latin1');
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeOctal(block, 329, 8, h.devmajor);
  writeOctal(block, 337, 8, h.devminor);
  block.write(h.prefix, 345, 155, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i] as number;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
}

/** Zero-padded octal filling the field but its last byte, which stays NUL (as Go writes it). */
function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'latin1');
}

function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** PAX records (`"<len> <key>=<value>\n"`, len counting itself), values as raw bytes. */
function encodePax(records: readonly PaxRecord[]): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`), value, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/**
 * Splits a name into ustar prefix (≤155 bytes) and name (≤100 bytes) at a '/', the prefix as long
 * as possible (Go's splitUSTARPath); undefined when the name needs a PAX path record.
 */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { prefix: '', name };
  let end = name.length;
  if (end > 156) end = 156;
  else if (name.endsWith('/')) end--;
  const i = name.lastIndexOf('/', end - 1);
  const rest = name.length - i - 1;
  if (i <= 0 || rest > 100 || rest === 0 || i > 155) return undefined;
  return { prefix: name.slice(0, i), name: name.slice(i + 1) };
}

/** The ustar stand-in for a name carried in PAX: its printable ASCII characters, first 100. */
function asciiPrefix(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '').slice(0, 100);
}
