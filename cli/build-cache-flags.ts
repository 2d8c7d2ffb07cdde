/**
 * `--cache-to` and `--cache-from` as buildx reads them (util/buildflags/cache.go): comma-separated
 * key=value fields; a `--cache-from` value without `=` names an image with an inline cache.
 */
import { UsageError } from '../errors.ts';
import type { CacheFrom, CacheMode, CacheTo } from '../remotecache/index.ts';
import { flagFields } from './flag-csv.ts';

function parseCsv(spec: string, flag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of flagFields(spec, flag)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${flag} value "${spec}": "${part}" is not key=value`);
    out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

function parseMode(fields: Map<string, string>): CacheMode {
  const mode = fields.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new UsageError(`invalid cache mode "${mode}": use min or max`);
  return mode;
}

export function parseCacheTo(spec: string): CacheTo {
  const f = parseCsv(spec, '--cache-to');
  const type = f.get('type');
  if (type === 'inline') return { type: 'inline' };
  if (type === 'local') {
    const dest = f.get('dest');
    if (!dest) throw new UsageError('--cache-to type=local needs dest=DIR');
    return { type: 'local', dest, mode: parseMode(f) };
  }
  if (type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw new UsageError('--cache-to type=registry needs ref=NAME[:TAG]');
    return { type: 'registry', ref, mode: parseMode(f) };
  }
  throw new UsageError(`unsupported --cache-to type "${type ?? ''}"`, {
    hint: 'use type=local, type=inline or type=registry',
  });
}

export function parseCacheFrom(spec: string): CacheFrom {
  if (!spec.includes('=')) return { type: 'image', ref: spec };
  const f = parseCsv(spec, '--cache-from');
  const type = f.get('type');
  if (type === 'local') {
    const src = f.get('src');
    if (!src) throw new UsageError('--cache-from type=local needs src=DIR');
    return { type: 'local', src };
  }
  if (type === 'image' || type === 'registry') {
    const ref = f.get('ref');
    if (!ref) throw new UsageError(`--cache-from type=${type} needs ref=IMAGE`);
    return { type, ref };
  }
  throw new UsageError(`unsupported --cache-from type "${type ?? ''}"`, {
    hint: 'use type=local or an image',
  });
}
