// `RUN --mount=…` values as typed mounts. BuildKit: frontend/dockerfile/instructions/commands_runmount.go.
import type { RunMount } from './commands.ts';

const mountTypes = new Set(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);

/** Parses one `--mount` value: comma-separated `key=value` fields (BuildKit commands_runmount.go). */
export function parseMount(spec: string, fail: (reason: string, hint?: string) => never): RunMount {
  const mount: RunMount = { type: 'bind', readonly: true };
  let readonlySet = false;
  const fields = spec.split(',').filter((f) => f !== '');
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const need = (): string =>
      value ?? fail(`invalid field '${field}' must be a key=value pair`, `write ${key}=<value>`);
    switch (key) {
      case 'type': {
        const t = need();
        if (!mountTypes.has(t))
          fail(`unsupported mount type "${t}"`, 'use type=bind, cache, tmpfs, secret or ssh');
        mount.type = t as RunMount['type'];
        break;
      }
      case 'target':
      case 'dst':
      case 'destination':
        mount.target = need();
        break;
      case 'source':
      case 'src':
        mount.source = need();
        break;
      case 'from':
        mount.from = need();
        break;
      case 'readonly':
      case 'ro':
      case 'rw':
      case 'readwrite': {
        const v = value === undefined ? true : value.toLowerCase() === 'true';
        if (value !== undefined && !['true', 'false'].includes(value.toLowerCase())) {
          fail(`invalid value for ${key}: ${value}`, `write ${key} or ${key}=false`);
        }
        mount.readonly = key === 'readonly' || key === 'ro' ? v : !v;
        readonlySet = true;
        break;
      }
      case 'id':
        mount.id = need();
        break;
      case 'sharing': {
        const s = need();
        if (s !== 'shared' && s !== 'private' && s !== 'locked') {
          fail(`unsupported sharing value "${s}"`, 'use sharing=shared, private or locked');
        }
        mount.sharing = s;
        break;
      }
      case 'mode': {
        const m = need();
        if (!/^[0-7]+$/.test(m)) fail(`invalid value ${m} for mode`, 'write mode=0755 (octal)');
        mount.mode = Number.parseInt(m, 8);
        break;
      }
      case 'uid':
      case 'gid': {
        const v = need();
        if (!/^\d+$/.test(v)) fail(`invalid value ${v} for ${key}`, `write ${key}=<number>`);
        mount[key] = Number.parseInt(v, 10);
        break;
      }
      case 'required': {
        const v = value === undefined ? 'true' : value.toLowerCase();
        if (v !== 'true' && v !== 'false') fail(`invalid value for required: ${value}`);
        mount.required = v === 'true';
        break;
      }
      case 'size':
        mount.size = need();
        break;
      case 'env':
        mount.env = need();
        break;
      default:
        fail(
          `unexpected key '${key}' in '${field}'`,
          'mount keys: type, target, source, from, readonly, id, sharing, mode, uid, gid, required, size, env',
        );
    }
  }
  // Cache and tmpfs mounts are writable unless told otherwise; bind mounts are read-only.
  if (!readonlySet && (mount.type === 'cache' || mount.type === 'tmpfs')) mount.readonly = false;
  if (
    (mount.type === 'bind' || mount.type === 'cache' || mount.type === 'tmpfs') &&
    mount.target === undefined
  ) {
    fail(`mount type ${mount.type} requires a target`, 'add target=<path>');
  }
  return mount;
}
