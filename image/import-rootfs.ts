/**
 * `tbuild import`: a rootfs tarball (plain or gzip) becomes a one-layer image. The layer is
 * stored gzip-compressed; its diffID is hashed from the uncompressed tar as it streams by.
 * `--change` lines (a subset of Dockerfile instructions, as `docker import --change`) set the
 * image's runtime config.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { StoreError } from './errors.ts';
import { TarSizeCounter } from './layer-size.ts';
import { type ContainerConfig, type Digest, hostPlatform, type ImageConfig, MediaType } from './oci.ts';
import type { ImageStore } from './store.ts';

/** Options for `importRootfs`. */
export interface ImportOptions {
  /** Dockerfile-style lines: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL. */
  changes: string[];
  /** The history comment; Docker writes "Imported from <source>". */
  comment: string;
  /** Creation time; defaults to SOURCE_DATE_EPOCH or now. */
  created?: Date;
  tags: string[];
}

async function* peekGunzip(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new StoreError('the rootfs tarball is empty');
  const head = first.value;
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    const feed = pipeline(all(), gunzip).catch((e: unknown) => gunzip.destroy(e as Error));
    for await (const chunk of gunzip) yield chunk as Buffer;
    await feed;
  } else yield* all();
}

/** Imports a rootfs tar stream; returns the image ID (config digest). */
export async function importRootfs(
  store: ImageStore,
  input: AsyncIterable<Uint8Array>,
  options: ImportOptions,
): Promise<Digest> {
  const config = applyChanges({}, options.changes);
  const diffHash = createHash('sha256');
  let tarBytes = 0;
  const counter = new TarSizeCounter();
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      diffHash.update(chunk);
      counter.write(chunk);
      tarBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const gzip = createGzip();
  const compressing = pipeline(peekGunzip(input), tap, gzip);
  compressing.catch(() => {});
  try {
    const blob = await store.putBlob(gzip, { what: 'rootfs layer' });
    await compressing;
    if (tarBytes < 512) throw new StoreError('the rootfs tarball is not a tar archive (too short)');
    const unpacked = counter.size();
    if (unpacked !== undefined) store.recordLayerSize(blob.digest, unpacked);
    const diffId: Digest = `sha256:${diffHash.digest('hex')}`;
    const epoch = process.env.SOURCE_DATE_EPOCH;
    const created = (options.created ?? (epoch ? new Date(Number(epoch) * 1000) : new Date())).toISOString();
    const platform = hostPlatform();
    const image: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      created,
      config,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created, comment: options.comment }],
    };
    const manifest = await store.putImage(
      {
        config: image,
        layers: [{ mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size }],
      },
      options.tags,
      { verifyLayers: true },
    );
    return (await store.readManifest(manifest.digest)).config.digest;
  } catch (error) {
    await compressing.catch(() => {});
    await store.discardUnreferenced();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`import: ${(error as Error).message}`);
  }
}

/** Splits a JSON array (`["a","b"]`) or falls back to the shell form (`/bin/sh -c …`), as Docker does. */
function parseCommand(rest: string): string[] {
  if (rest.startsWith('[')) {
    try {
      const v: unknown = JSON.parse(rest);
      if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
    } catch {
      // not JSON: shell form, like BuildKit's parser does for malformed JSON
    }
  }
  return ['/bin/sh', '-c', rest];
}

/** Splits `k=v k2="v 2"` words, honouring double and single quotes and backslashes. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote) throw new StoreError(`unterminated quote in: ${text}`);
  if (inWord) words.push(cur);
  return words;
}

/** `k=v …` pairs, or the legacy `KEY value with spaces` form for ENV and LABEL. */
function parsePairs(keyword: string, rest: string): [string, string][] {
  const words = splitWords(rest);
  if (words.length > 0 && !(words[0] as string).includes('=')) {
    const space = rest.search(/\s/);
    if (space === -1) throw new StoreError(`${keyword} requires a value: ${rest}`);
    return [[rest.slice(0, space), rest.slice(space).trim()]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new StoreError(`${keyword}: expected KEY=VALUE, got "${w}"`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/**
 * Applies `--change` lines to a container config (returns a new object). Only the
 * instructions `docker import --change` accepts are allowed (moby: builder/dockerfile
 * `validCommitCommands`).
 */
export function applyChanges(base: ContainerConfig, changes: string[]): ContainerConfig {
  const config: ContainerConfig = structuredClone(base);
  for (const line of changes) {
    const m = /^\s*(\w+)\s*(.*?)\s*$/s.exec(line);
    if (!m) throw new StoreError(`invalid --change: ${JSON.stringify(line)}`);
    const keyword = (m[1] as string).toUpperCase();
    const rest = m[2] as string;
    if (rest === '') throw new StoreError(`${keyword} requires at least one argument`);
    switch (keyword) {
      case 'CMD':
        config.Cmd = parseCommand(rest);
        break;
      case 'ENTRYPOINT':
        config.Entrypoint = parseCommand(rest);
        break;
      case 'ENV': {
        const env = [...(config.Env ?? [])];
        for (const [k, v] of parsePairs(keyword, rest)) {
          const i = env.findIndex((e) => e.slice(0, e.indexOf('=')) === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        config.Env = env;
        break;
      }
      case 'LABEL':
        config.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(parsePairs(keyword, rest)) };
        break;
      case 'WORKDIR':
        config.WorkingDir = rest;
        break;
      case 'USER':
        config.User = rest;
        break;
      case 'STOPSIGNAL':
        config.StopSignal = rest;
        break;
      case 'EXPOSE': {
        const ports = { ...(config.ExposedPorts ?? {}) };
        for (const p of splitWords(rest)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p))
            throw new StoreError(`EXPOSE: invalid port "${p}"`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        config.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const volumes = { ...(config.Volumes ?? {}) };
        const list = rest.startsWith('[') ? parseCommand(rest) : splitWords(rest);
        if (list[0] === '/bin/sh' && rest.startsWith('['))
          throw new StoreError(`VOLUME: invalid JSON: ${rest}`);
        for (const v of list) volumes[v] = {};
        config.Volumes = volumes;
        break;
      }
      default:
        throw new StoreError(`${keyword} is not a valid change command`);
    }
  }
  return config;
}
