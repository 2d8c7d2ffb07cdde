import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ExecMount } from '../executor/index.ts';
import { RunError } from './errors.ts';

/**
 * Parses one `-v HOST:CTR[:OPTIONS]` value into a bind mount. Only bind mounts exist here: the
 * host path is absolute or starts with `.` (resolved against `cwd`, as Docker's CLI does since
 * 23.0); anything else would be a named volume, which tbuild does not have. OPTIONS is a
 * comma-separated list of `ro` / `rw`. Pure; {@link checkVolumeSources} checks the host side.
 */
export function parseVolume(spec: string, cwd: string): ExecMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) {
    throw new RunError(`invalid volume specification: '${spec}'`, {
      hint: 'use -v HOST_PATH:CONTAINER_PATH[:ro]',
    });
  }
  const [host, target, options = ''] = parts as [string, string, string?];
  if (!isAbsolute(host) && !host.startsWith('.')) {
    throw new RunError(`invalid volume specification: '${spec}': named volumes are not supported`, {
      hint: 'give an absolute host path, or one starting with ./',
    });
  }
  if (!target.startsWith('/')) {
    throw new RunError(`invalid volume specification: '${spec}': mount path must be absolute`);
  }
  if (target.split('/').every((s) => s === '')) {
    throw new RunError(
      `invalid volume specification: '${spec}': invalid mount config: destination can't be '/'`,
    );
  }
  let readonly = false;
  for (const option of options.split(',').filter((o) => o !== '')) {
    if (option === 'ro') readonly = true;
    else if (option === 'rw') readonly = false;
    else throw new RunError(`invalid volume specification: '${spec}': unsupported mode '${option}'`);
  }
  return { type: 'bind', source: resolve(cwd, host), target, readonly };
}

/** Docker's `--mount` rule, applied to `-v` too: a bind source that does not exist is an error, not created. */
export async function checkVolumeSources(mounts: readonly ExecMount[]): Promise<void> {
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    await stat(m.source).catch(() => {
      throw new RunError(
        `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
      );
    });
  }
}
