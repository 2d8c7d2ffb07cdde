/**
 * `--mount type=volume|bind|tmpfs,source=…,target=…,readonly,volume-nocopy,volume-label=K=V,
 * tmpfs-size=…` as docker-cli's opts/mount.go MountOpt.Set reads it: CSV fields of
 * `key=value` (a bare `readonly` / `volume-nocopy` means true), type `volume` when absent, a
 * relative `./` source made absolute; its errors are flag errors (125). What the daemon checks
 * (a bind source that exists, a volume name) is checked at create.
 */

import { resolve } from 'node:path';
import { parseByteSize } from '../cache/index.ts';
import { parseGoBool } from '../csv-fields.ts';
import { checkMountTarget, type MountRequest } from '../runtime/index.ts';
import { flagFields } from './flag-csv.ts';
import { commandUsageError } from './flags.ts';

export function parseMountFlag(command: string, value: string, cwd: string): MountRequest {
  const fail = (reason: string) =>
    commandUsageError(command, `invalid argument "${value}" for "--mount" flag: ${reason}`);
  let type = 'volume';
  let source = '';
  let target = '';
  let readonly = false;
  let noCopy = false;
  let size: number | undefined;
  const labels: Record<string, string> = {};
  const used = { volume: false, bind: false, tmpfs: false };
  const bool = (key: string, text: string | undefined): boolean => {
    if (text === undefined) return true;
    const parsed = parseGoBool(text);
    if (parsed === undefined) throw fail(`invalid value for ${key}: ${text}`);
    return parsed;
  };
  for (const field of flagFields(value, '--mount')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const text = eq < 0 ? undefined : field.slice(eq + 1);
    if (text === undefined && !['readonly', 'ro', 'volume-nocopy'].includes(key))
      throw fail(`invalid field '${field}' must be a key=value pair`);
    switch (key) {
      case 'type':
        type = text as string;
        break;
      case 'source':
      case 'src':
        source = text === '.' || text?.startsWith('./') ? resolve(cwd, text) : (text as string);
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = text as string;
        break;
      case 'readonly':
      case 'ro':
        readonly = bool(key, text);
        break;
      case 'consistency':
        break; // Docker for Mac's; ignored on Linux as dockerd does
      case 'volume-nocopy':
        noCopy = bool(key, text);
        used.volume = true;
        break;
      case 'volume-label': {
        const at = (text as string).indexOf('=');
        labels[at < 0 ? (text as string) : (text as string).slice(0, at)] =
          at < 0 ? '' : (text as string).slice(at + 1);
        used.volume = true;
        break;
      }
      case 'volume-driver':
        if (text !== 'local') throw fail(`volume driver "${text}" is not supported (only local)`);
        used.volume = true;
        break;
      case 'bind-propagation':
        if (text !== 'rprivate') throw fail(`bind-propagation ${text} is not supported (only rprivate)`);
        used.bind = true;
        break;
      case 'tmpfs-size':
        size = parseByteSize(text as string);
        if (size === undefined) throw fail(`invalid value for ${key}: ${text}`);
        used.tmpfs = true;
        break;
      case 'tmpfs-mode':
        // The executor's tmpfs is Docker's default 1777; another mode would be silently wrong.
        throw fail('tmpfs-mode is not supported (tmpfs mounts are mode 1777)');
      default:
        throw fail(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') throw fail(`invalid mount type: ${type}`);
  if (target === '') throw fail('target is required');
  for (const kind of ['volume', 'bind', 'tmpfs'] as const) {
    if (used[kind] && type !== kind) throw fail(`cannot mix '${kind}-*' options with mount type '${type}'`);
  }
  const invalid = (reason: string) => fail(`invalid mount config for type "${type}": ${reason}`);
  checkMountTarget(target, invalid);
  if (type === 'bind' && source === '') throw invalid('field Source must not be empty');
  if (type === 'tmpfs' && source !== '') throw invalid('field Source must not be specified');
  return {
    type,
    source,
    target,
    readonly,
    noCopy,
    mode: '',
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(size === undefined ? {} : { size }),
  };
}
