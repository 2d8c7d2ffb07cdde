import { spawn } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rm, unlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { getAttribute, removeAttribute } from '@napi-rs/xattr';
import { TbuildError } from '../errors.ts';

/**
 * What to mount. Snapshots are directories: each lower is one layer's tree in overlayfs form
 * (a deleted path is a 0/0 char device, an opaque dir has `trusted.overlay.opaque=y`); the
 * upper receives every change made through the mount, so it IS the next layer's diff.
 */
export interface OverlaySpec {
  /** Lower dirs, BASE FIRST (the order of image layers; the last one is the top-most). */
  lowers: string[];
  /** Writable layer. Give `upper` and `work` together (same filesystem), or neither for a read-only view. */
  upper?: string;
  /** overlayfs scratch dir; must be empty and on the upper's filesystem. */
  work?: string;
  /** Existing directory to mount on (for `copy`, created if missing and must be empty). */
  target: string;
}

/** How a view was made; the caller needs this to know where the changes went. */
export type MountMethod =
  /** kernel overlayfs: changes are in `upper` (whiteouts as 0/0 char devices). */
  | 'overlay'
  /** a bind mount: one lower read-only, or the upper alone read-write (changes in `upper`). */
  | 'bind'
  /** no overlayfs: `target` is a plain merged copy of the lowers; `upper` is NOT used, so the
   * caller computes the diff by walking `target` against the lowers. */
  | 'copy';

/** A mounted view. `unmount()` is idempotent; for `copy` it does nothing (the caller owns the dir). */
export interface MountedView {
  target: string;
  method: MountMethod;
  unmount(): Promise<void>;
}

/** A mount or unmount failed; the message carries `mount`'s own error text. */
export class MountError extends TbuildError {}

/**
 * Linux copies at most one page of mount data (`copy_mount_options`), so the whole `-o` string
 * must fit in 4096 bytes including the final NUL.
 */
export const mountDataLimit = 4095;

/**
 * overlayfs stacks at most 500 lower layers (OVL_MAX_STACK in fs/overlayfs); more than that
 * needs flattening, which belongs to the snapshot store, not here.
 */
export const maxLowerLayers = 500;

/**
 * The overlay `-o` string for a spec, plus the directory `mount` must run in. When absolute
 * paths would exceed one page, all dirs are given relative to their deepest common parent and
 * mount runs there (containerd mount_linux.go does the same for lowerdirs). Pure.
 */
export function overlayMountData(
  spec: OverlaySpec,
  opts: { indexOff?: boolean } = {},
): { data: string; cwd?: string } {
  if (spec.lowers.length === 0) throw new MountError('overlay needs at least one lower dir');
  if (spec.lowers.length > maxLowerLayers)
    throw new MountError(`overlayfs stacks at most ${maxLowerLayers} lower dirs, got ${spec.lowers.length}`);
  if ((spec.upper === undefined) !== (spec.work === undefined))
    throw new MountError('overlay upper and work dirs must be given together');
  if (spec.upper === undefined && spec.lowers.length < 2)
    throw new MountError('a read-only overlay needs at least two lower dirs (use a bind mount for one)');
  const dirs = [...spec.lowers, ...(spec.upper === undefined ? [] : [spec.upper, spec.work as string])].map(
    (d) => resolve(d),
  );
  for (const d of dirs) {
    // ':' separates lowerdirs and ',' separates options; overlayfs escaping is not worth the risk.
    if (/[:,\\]/.test(d)) throw new MountError(`overlay dir path contains ':', ',' or '\\': ${d}`);
  }
  const build = (paths: string[]) => {
    const n = spec.lowers.length;
    // overlayfs takes lowerdir top-most first.
    const parts = [`lowerdir=${paths.slice(0, n).reverse().join(':')}`];
    if (spec.upper !== undefined) parts.push(`upperdir=${paths[n]}`, `workdir=${paths[n + 1]}`);
    if (opts.indexOff) parts.push('index=off');
    return parts.join(',');
  };
  const absolute = build(dirs);
  if (absolute.length <= mountDataLimit) return { data: absolute };
  const cwd = commonParent(dirs);
  const compact = build(dirs.map((d) => relative(cwd, d) || '.'));
  if (compact.length > mountDataLimit)
    throw new MountError(
      `overlay options are ${compact.length} bytes even with paths relative to ${cwd} (limit ${mountDataLimit}); use shorter snapshot paths or fewer layers`,
    );
  return { data: compact, cwd };
}

function commonParent(dirs: string[]): string {
  let parts = (dirs[0] as string).split(sep);
  for (const d of dirs.slice(1)) {
    const other = d.split(sep);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

/** True when the kernel lists overlayfs and we are root (mounting needs CAP_SYS_ADMIN). */
export async function isOverlaySupported(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\toverlay$/m.test(fs);
}

/**
 * Makes the merged view of `spec` at `spec.target`:
 * - no lowers + upper: the upper bind-mounted read-write;
 * - one lower, no upper: that lower bind-mounted read-only;
 * - otherwise an overlayfs mount (read-only when there is no upper).
 * With `method: 'copy'`, or when overlayfs is unavailable, the lowers are merged into `target`
 * by copying (`cp -a`, applying each layer's whiteouts and opaque dirs) instead: slower, and the
 * changes then stay in `target` (see {@link MountMethod}).
 */
export async function mountOverlay(
  spec: OverlaySpec,
  opts: { method?: 'auto' | 'copy' } = {},
): Promise<MountedView> {
  const target = resolve(spec.target);
  if (opts.method === 'copy' || !(await isOverlaySupported())) {
    await copyLowers(spec.lowers, target);
    return { target, method: 'copy', unmount: async () => {} };
  }
  if (spec.lowers.length === 0) {
    if (spec.upper === undefined) throw new MountError('nothing to mount: no lower and no upper dir');
    await runMount(['--bind', resolve(spec.upper), target]);
    return mounted(target, 'bind');
  }
  if (spec.lowers.length === 1 && spec.upper === undefined) {
    // util-linux turns `--bind -o ro` into bind + read-only remount.
    await runMount(['--bind', '-o', 'ro', resolve(spec.lowers[0] as string), target]);
    return mounted(target, 'bind');
  }
  const { data, cwd } = overlayMountData(spec, { indexOff: await hasIndexParameter() });
  await runMount(['-t', 'overlay', 'overlay', '-o', data, target], cwd);
  return mounted(target, 'overlay');
}

function mounted(target: string, method: MountMethod): MountedView {
  let done = false;
  return {
    target,
    method,
    async unmount() {
      if (done) return;
      await unmountPath(target);
      done = true;
    },
  };
}

/**
 * containerd adds `index=off` whenever the overlay module has the parameter: with the inode
 * index on, a lower dir shared by two mounts can make the second mount fail.
 */
async function hasIndexParameter(): Promise<boolean> {
  try {
    await lstat('/sys/module/overlay/parameters/index');
    return true;
  } catch {
    return false;
  }
}

const busyRetries = 10;
const busyDelayMs = 50;

/**
 * `umount target`; while it is busy, retries for half a second and then detaches lazily
 * (`umount -l`), so a straggling process cannot wedge the caller. "not mounted" counts as done.
 */
export async function unmountPath(target: string): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await spawnCollect('umount', [target]);
    if (r.code === 0 || /not mounted/.test(r.stderr)) return;
    if (!/busy/i.test(r.stderr)) throw new MountError(`umount ${target} failed: ${r.stderr.trim()}`);
    if (i >= busyRetries) break;
    await new Promise((res) => setTimeout(res, busyDelayMs));
  }
  const lazy = await spawnCollect('umount', ['-l', target]);
  if (lazy.code !== 0 && !/not mounted/.test(lazy.stderr))
    throw new MountError(`umount -l ${target} failed: ${lazy.stderr.trim()}`);
}

async function runMount(args: string[], cwd?: string): Promise<void> {
  const r = await spawnCollect('mount', args, cwd);
  if (r.code !== 0) throw new MountError(`mount ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

function spawnCollect(cmd: string, args: string[], cwd?: string): Promise<{ code: number; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(cwd ? { cwd } : {}) });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', (err) => rej(new MountError(`cannot run ${cmd}: ${err.message}`, { cause: err })));
    child.once('close', (code) => res({ code: code ?? -1, stderr }));
  });
}

/**
 * The no-overlayfs fallback: applies the lowers base first onto `target`. Before each copy, paths
 * the layer deletes (whiteouts), opaque dirs and dir/non-dir replacements are removed from the
 * target; the walk visits a directory before its children, so a symlink in the target is always
 * removed before anything below it is touched. `cp -a` keeps owners, modes, times, xattrs and
 * hard links (Node's fs.cp loses the last two).
 */
export async function copyLowers(lowers: string[], target: string): Promise<void> {
  // The copy is the rootfs's `/`: a content mode, as an overlay's root would have (its upper's).
  await mkdir(target, { recursive: true, mode: 0o755 });
  if ((await readdir(target)).length > 0) throw new MountError(`copy target ${target} is not empty`);
  for (const lower of lowers.map((l) => resolve(l))) {
    const whiteouts: string[] = [];
    const opaques: string[] = [];
    await prepareTarget(lower, target, '', whiteouts, opaques);
    const r = await spawnCollect('cp', [
      '-a',
      '--remove-destination',
      '--reflink=auto',
      `${lower}/.`,
      `${target}/`,
    ]);
    if (r.code !== 0) throw new MountError(`copying ${lower} failed: ${r.stderr.trim()}`);
    for (const rel of whiteouts) await unlink(join(target, rel)).catch(() => undefined);
    for (const rel of opaques) await removeAttribute(join(target, rel), opaqueXattr).catch(() => undefined);
  }
}

const opaqueXattr = 'trusted.overlay.opaque';

async function prepareTarget(
  lower: string,
  target: string,
  rel: string,
  whiteouts: string[],
  opaques: string[],
) {
  for (const name of await readdir(join(lower, rel))) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(lower, child));
    const dest = join(target, child);
    const existing = await lstat(dest).catch(() => undefined);
    if (st.isCharacterDevice() && st.rdev === 0) {
      whiteouts.push(child);
      await rm(dest, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      const opaque =
        (await getAttribute(join(lower, child), opaqueXattr).catch(() => null))?.toString() === 'y';
      if (opaque) {
        opaques.push(child);
        await rm(dest, { recursive: true, force: true });
      } else if (existing && !existing.isDirectory()) await rm(dest, { force: true });
      await prepareTarget(lower, target, child, whiteouts, opaques);
    } else if (existing?.isDirectory()) {
      await rm(dest, { recursive: true, force: true });
    }
  }
}
