/**
 * File metadata Node has no API for: extended attributes (through @napi-rs/xattr, whose calls use
 * the l* variants and so never follow a final symlink) and device/fifo creation (through the
 * coreutils `mknod`/`mkfifo` commands, since Node has no mknod).
 */
import { spawn } from 'node:child_process';
import {
  getAttribute,
  getAttributeSync,
  listAttributes,
  listAttributesSync,
  setAttribute,
} from '@napi-rs/xattr';

/** An extended attribute: its full name (`security.capability`) and raw value bytes. */
export type Xattr = readonly [name: string, value: Buffer];

/** True when this process can chown, mknod and set `trusted.*` xattrs (it runs as root). */
export function isPrivileged(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The extended attributes of `path` (a final symlink is not followed), sorted by name bytes so
 * that a layer lists them in a stable order. `keep` filters by name. A filesystem without xattr
 * support yields none.
 */
export async function readXattrs(
  path: string,
  keep: (name: string) => boolean = () => true,
): Promise<Xattr[]> {
  let names: string[];
  try {
    names = await listAttributes(path);
  } catch (error) {
    if (/not supported/i.test(String(error))) return [];
    throw error;
  }
  const result: Xattr[] = [];
  for (const name of names.filter(keep).sort(compareBytes)) {
    const value = await getAttribute(path, name);
    if (value !== null) result.push([name, Buffer.from(value)]);
  }
  return result;
}

/**
 * {@link readXattrs} without the thread pool: for walks over many small files, where a round trip
 * through libuv's pool costs several times the listxattr call itself.
 */
export function readXattrsSync(path: string, keep: (name: string) => boolean = () => true): Xattr[] {
  let names: string[];
  try {
    names = listAttributesSync(path);
  } catch (error) {
    if (/not supported/i.test(String(error))) return [];
    throw error;
  }
  const result: Xattr[] = [];
  for (const name of names.filter(keep).sort(compareBytes)) {
    const value = getAttributeSync(path, name);
    if (value !== null) result.push([name, Buffer.from(value)]);
  }
  return result;
}

/** Sets one extended attribute on `path` itself (a final symlink is not followed). */
export async function writeXattr(path: string, name: string, value: Buffer): Promise<void> {
  await setAttribute(path, name, value);
}

/** Orders strings by their UTF-8 bytes, like Go's sort.Strings in BuildKit/containerd walks. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Splits a Linux `st_rdev` into major and minor numbers (glibc's gnu_dev_major/minor). */
export function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/** The node kinds Node cannot create by itself. */
type SpecialNodeType = 'character-device' | 'block-device' | 'fifo';

/**
 * Creates a device node or fifo at `path` with mode 0600 (the caller sets the real mode, owner
 * and times afterwards). Fails if `path` exists. Devices need root.
 */
export async function makeSpecialNode(
  path: string,
  type: SpecialNodeType,
  major = 0,
  minor = 0,
): Promise<void> {
  if (type === 'fifo') {
    await runTool('mkfifo', ['-m', '600', '--', path]);
    return;
  }
  const kind = type === 'block-device' ? 'b' : 'c';
  await runTool('mknod', ['-m', '600', '--', path, kind, String(major), String(minor)]);
}

function runTool(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
