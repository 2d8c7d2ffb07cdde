/**
 * `build -o/--output` (several allowed), `--push` and `--load` as buildx reads them, into the
 * exporter's outputs:
 *  - util/buildflags/export.go: CSV fields `type=…,dest=…,KEY=VALUE`; a lone value that is not
 *    `type=…` is a local directory (`-o DIR`), `-o -` a tar on standard output;
 *  - build/opt.go CreateExports: which types take a directory or a file, `dest` defaults and
 *    checks, one standard output at most, never a terminal; `type=registry` is `type=image,push=true`;
 *    `type=docker` without `dest` is the image into the store (buildx's docker driver);
 *  - build/opt.go toSolveOpt: `-t` names the image, oci and docker outputs (over any `name=`);
 *    pushing needs a name;
 *  - commands/build.go: `--push` sets push on the first output (an image one), `--load` adds
 *    `type=docker`.
 * Attribute values follow BuildKit's exporters (exporter/containerimage/opts.go, exporter/oci,
 * exporter/local): Go booleans, `name` a comma-separated list.
 */
import { statSync } from 'node:fs';
import { parseGoBool } from '../csv-fields.ts';
import { UsageError } from '../errors.ts';
import type { FileTarget, Output } from '../exporter/index.ts';
import { normalizeTag } from '../image/index.ts';
import { flagFields } from './flag-csv.ts';

/** One `-o` value, as buildx's ExportEntry. */
interface ExportEntry {
  type: string;
  dest?: string;
  attrs: Map<string, string>;
}

export interface OutputFlags {
  outputs: string[];
  tags: string[];
  push: boolean;
  load: boolean;
  /** Standard output is a terminal: no archive goes there. */
  stdoutIsTTY: boolean;
}

export interface ParsedOutputs {
  outputs: Output[];
  /**
   * `rewrite-timestamp` of the image outputs, when one gave it. tbuild clamps the layers' mtimes to
   * SOURCE_DATE_EPOCH while it packs them, for every output at once, so the outputs must agree.
   */
  rewriteTimestamp?: boolean;
}

function parseEntry(spec: string): ExportEntry {
  const fields = flagFields(spec, '--output');
  if (fields.length === 1 && fields[0] === spec && !spec.startsWith('type=')) {
    return spec === '-'
      ? { type: 'tar', dest: '-', attrs: new Map() }
      : { type: 'local', dest: spec, attrs: new Map() };
  }
  const entry: ExportEntry = { type: '', attrs: new Map() };
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq < 0) throw new UsageError(`invalid value ${field}`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (key === 'type') entry.type = value;
    else if (key === 'dest') entry.dest = value;
    else entry.attrs.set(key, value);
  }
  if (entry.type === '') throw new UsageError('type is required for output');
  return entry;
}

/** A boolean attribute (Go's strconv.ParseBool); an empty value means `empty` where BuildKit reads it so. */
function parseBool(value: string | undefined, key: string, empty?: boolean): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === '' && empty !== undefined) return empty;
  const parsed = parseGoBool(value);
  if (parsed === undefined) throw new UsageError(`non-bool value ${value} specified for ${key}`);
  return parsed;
}

/** What is at `path`: nothing, a directory or something else. */
function kindOf(path: string): 'missing' | 'directory' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new UsageError(`invalid destination: ${path}: ${(error as Error).message}`);
  }
}

function normalizeNames(list: string): string[] {
  return list
    .split(',')
    .filter((name) => name !== '')
    .map((name) => {
      try {
        return normalizeTag(name);
      } catch (error) {
        throw new UsageError(`failed to parse ${name}: ${(error as Error).message}`);
      }
    });
}

export function parseOutputs(flags: OutputFlags): ParsedOutputs {
  const entries = flags.outputs.filter((s) => s !== '').map(parseEntry);
  for (const entry of entries) {
    if (entry.type === 'registry') {
      entry.type = 'image';
      entry.attrs.set('push', 'true');
    }
  }
  if (flags.push && flags.load) throw new UsageError('push and load may not be set together at the moment');
  if (flags.push) {
    const first = entries[0];
    if (!first) entries.push({ type: 'image', attrs: new Map([['push', 'true']]) });
    else if (first.type === 'image') first.attrs.set('push', 'true');
    else throw new UsageError(`push and "${first.type}" output can't be used together`);
  }
  if (flags.load) {
    const first = entries[0];
    if (!first) entries.push({ type: 'docker', attrs: new Map() });
    else if (first.type !== 'docker')
      throw new UsageError(`load and "${first.type}" output can't be used together`);
  }
  if (entries.length === 0) entries.push({ type: 'image', attrs: new Map() });
  const tags = flags.tags.map(normalizeTag);
  let stdoutUsed = false;
  const fileTarget = (entry: ExportEntry): FileTarget => {
    const dest = entry.dest || '-';
    if (dest !== '-') {
      if (kindOf(dest) === 'directory') throw new UsageError(`destination file ${dest} is a directory`);
      return { kind: 'file', path: dest };
    }
    if (stdoutUsed) throw new UsageError('multiple outputs configured to write to stdout');
    if (flags.stdoutIsTTY)
      throw new UsageError(`dest file is required for ${entry.type} exporter. refusing to write to console`);
    stdoutUsed = true;
    return { kind: 'stdout' };
  };
  const directory = (entry: ExportEntry): string => {
    if (!entry.dest) throw new UsageError(`dest is required for ${entry.type} exporter`);
    if (entry.dest === '-') throw new UsageError(`dest cannot be stdout for ${entry.type} exporter`);
    if (kindOf(entry.dest) === 'other') throw new UsageError(`destination directory ${entry.dest} is a file`);
    return entry.dest;
  };
  const outputs: Output[] = [];
  const rewrites = new Set<boolean>();
  for (const entry of entries) {
    const names = tags.length > 0 ? tags : normalizeNames(entry.attrs.get('name') ?? '');
    const rewrite = parseBool(entry.attrs.get('rewrite-timestamp'), 'rewrite-timestamp', true);
    switch (entry.type) {
      case 'image': {
        const push = parseBool(entry.attrs.get('push'), 'push', true) ?? false;
        if (push && names.length === 0) throw new UsageError('tag is needed when pushing to registry');
        outputs.push({ type: 'image', names, push });
        break;
      }
      case 'docker':
      case 'oci': {
        const tar = parseBool(entry.attrs.get('tar'), 'tar', true) ?? true;
        if (entry.type === 'docker' && !entry.dest && tar) {
          // buildx's docker driver: the docker exporter without a file loads the image.
          outputs.push({ type: 'image', names, push: false });
          break;
        }
        const target = tar ? fileTarget(entry) : { kind: 'directory' as const, path: directory(entry) };
        outputs.push({ type: entry.type, names, target });
        break;
      }
      case 'local': {
        const split = parseBool(entry.attrs.get('platform-split'), 'platform-split');
        outputs.push({
          type: 'local',
          dir: directory(entry),
          ...(split !== undefined ? { platformSplit: split } : {}),
        });
        break;
      }
      case 'tar':
        outputs.push({ type: 'tar', target: fileTarget(entry) });
        break;
      case 'cacheonly': // buildx's stand-in for "no output"
        break;
      default:
        throw new UsageError(`exporter "${entry.type}" could not be found`, {
          hint: 'use type=image, registry, docker, oci, local or tar',
        });
    }
    if (rewrite !== undefined && entry.type !== 'local' && entry.type !== 'tar') rewrites.add(rewrite);
  }
  if (rewrites.size > 1)
    throw new UsageError(
      'rewrite-timestamp differs between outputs: tbuild clamps the layers once, for all of them',
    );
  const [rewriteTimestamp] = rewrites;
  return { outputs, ...(rewriteTimestamp !== undefined ? { rewriteTimestamp } : {}) };
}
