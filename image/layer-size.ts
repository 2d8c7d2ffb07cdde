/**
 * A layer's SIZE as Docker shows it in `images` and `history`: the bytes of the files in the
 * layer's diff once unpacked, as moby's overlay2 DiffSize counts them (pkg/directory Size: every
 * non-directory's lstat size, a hardlinked inode once). From a tar that is: each regular file's
 * size, each symlink's target length, nothing for directories, devices, fifos, whiteouts (empty
 * files) and hardlink entries (their inode is counted at its first path). So busybox is its binary
 * plus its symlinks, and a WORKDIR layer (one directory) is 0B where its gzip blob is ~90 bytes.
 *
 * `TarSizeCounter` reads tar bytes as they stream by (ustar, GNU long names/links, PAX `size` and
 * `linkpath`), synchronously and without buffering data: it is fed from a blob that is being
 * written or read for another reason. Bytes that are not a tar (a config fed by `load`, which
 * cannot tell layers from other blobs) make it invalid, never throw.
 */
import { Buffer } from 'node:buffer';

const BLOCK = 512;

/** A PAX or GNU long-name/link body being collected (`skip`: read past, not kept). */
interface MetaEntry {
  kind: 'pax' | 'longlink' | 'skip';
  body: Buffer[];
  left: number;
  pad: number;
}

/** Counts the unpacked file bytes of a tar stream; `size()` is undefined unless it was a whole tar. */
export class TarSizeCounter {
  #total = 0;
  #header = Buffer.alloc(BLOCK);
  #headerFill = 0;
  /** Data (and padding) bytes of the current entry still to skip. */
  #skip = 0;
  #meta: MetaEntry | undefined;
  /** PAX `size`/`linkpath` or GNU long link that apply to the next entry. */
  #next: { size?: number; linkpath?: string } = {};
  #invalid = false;
  #ended = false;

  /** Feeds the next bytes of the tar. */
  write(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.#invalid && !this.#ended) {
      if (this.#meta) {
        const meta = this.#meta;
        const take = Math.min(meta.left + meta.pad, chunk.length - at);
        const body = Math.min(take, meta.left);
        if (body > 0 && meta.kind !== 'skip') meta.body.push(Buffer.from(chunk.subarray(at, at + body)));
        meta.left -= body;
        meta.pad -= take - body;
        at += take;
        if (meta.left === 0 && meta.pad === 0) this.#finishMeta(meta);
        continue;
      }
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - at);
        this.#skip -= take;
        at += take;
        continue;
      }
      const take = Math.min(BLOCK - this.#headerFill, chunk.length - at);
      this.#header.set(chunk.subarray(at, at + take), this.#headerFill);
      this.#headerFill += take;
      at += take;
      if (this.#headerFill === BLOCK) {
        this.#headerFill = 0;
        this.#readHeader(this.#header);
      }
    }
  }

  /** The unpacked size, when the bytes fed were a tar up to its end (or up to an entry boundary). */
  size(): number | undefined {
    if (this.#invalid || this.#meta || this.#skip > 0 || this.#headerFill > 0) return undefined;
    return this.#total;
  }

  #readHeader(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      // The end-of-archive marker: what follows (a second zero block, padding) is not read.
      this.#ended = true;
      return;
    }
    if (!checksumMatches(h)) {
      this.#invalid = true;
      return;
    }
    const type = String.fromCharCode(h[156] as number);
    const headerSize = parseNumber(h.subarray(124, 136));
    if (headerSize === undefined) {
      this.#invalid = true;
      return;
    }
    const next = this.#next;
    this.#next = {};
    const size = next.size ?? headerSize;
    const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L' || type === 'K' || type === 'g') {
      const kind = type === 'x' ? 'pax' : type === 'K' ? 'longlink' : 'skip';
      this.#meta = { kind, body: [], left: headerSize, pad: padded(headerSize) - headerSize };
      if (headerSize === 0) this.#finishMeta(this.#meta);
      return;
    }
    if (type === '0' || type === '\0' || type === '7') this.#total += size;
    else if (type === '2') {
      const target = next.linkpath ?? cString(h.subarray(157, 257));
      this.#total += Buffer.byteLength(target);
    }
    // Only regular files carry data; other types' size field is 0 (or ignored by extractors).
    this.#skip = type === '0' || type === '\0' || type === '7' ? padded(size) : 0;
  }

  #finishMeta(meta: MetaEntry): void {
    this.#meta = undefined;
    const body = Buffer.concat(meta.body);
    if (meta.kind === 'longlink') this.#next.linkpath = cString(body);
    if (meta.kind !== 'pax') return;
    // PAX records: "<length> <key>=<value>\n", the length counting the whole record.
    let at = 0;
    while (at < body.length) {
      const space = body.indexOf(0x20, at);
      const length = Number(body.subarray(at, space).toString('latin1'));
      if (space < 0 || !Number.isInteger(length) || length <= 0) break;
      const record = body.subarray(space + 1, at + length - 1).toString('utf8');
      const eq = record.indexOf('=');
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (key === 'size' && /^\d+$/.test(value)) this.#next.size = Number(value);
      if (key === 'linkpath') this.#next.linkpath = value;
      at += length;
    }
  }
}

function checksumMatches(h: Buffer): boolean {
  const stored = parseNumber(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] as number);
  return stored === sum;
}

/** A tar number field: octal text (NUL/space padded) or GNU base-256 (high bit set). */
function parseNumber(field: Buffer): number | undefined {
  if (((field[0] as number) & 0x80) !== 0) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + (field[i] as number);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const text = field
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : undefined;
}

function cString(field: Buffer): string {
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}
