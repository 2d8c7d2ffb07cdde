/**
 * `export` and `cp`: files out of a container (and into it), on a view of its filesystem
 * (bundle.ts withContainerFs). Paths inside the container are resolved as the container sees
 * them (executor resolveInRoot: `..` and symlinks never leave its root), so a symlink planted
 * in the container cannot make `cp` read or write a host file.
 */
import { spawn } from 'node:child_process';
import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { resolveInRoot } from '../executor/index.ts';
import { applyLayer, packLayer } from '../image/index.ts';
import { withContainerFs } from './bundle.ts';
import { ContainerError } from './errors.ts';
import { inspectContainer } from './lifecycle.ts';

/** The container's whole filesystem as an uncompressed tar, Docker's `export`. */
export async function exportContainer(root: string, ref: string, out: Writable): Promise<void> {
  const container = await inspectContainer(root, ref);
  await withContainerFs(root, container, async (dir) => {
    const packed = packLayer({ kind: 'directory', path: dir }, { compression: 'none' });
    await pipeline(packed.stream, out, { end: false });
    await packed.digests;
  });
}

/**
 * `cp CONTAINER:SRC HOSTDEST`: copies a file or directory out (Docker's archive rules for a
 * destination that exists as a directory: the source goes inside it under its own name).
 */
export async function copyFromContainer(root: string, ref: string, src: string, dest: string): Promise<void> {
  const container = await inspectContainer(root, ref);
  await withContainerFs(root, container, async (dir) => {
    const from = resolveInRoot(dir, src);
    await lstat(from).catch(() => {
      throw new ContainerError(`Could not find the file ${src} in container ${ref}`);
    });
    await copyTree(from, dest);
  });
}

/**
 * `cp HOSTSRC CONTAINER:DEST`: copies into a running container's live rootfs. GNU tar packs the
 * source under its name in the container, and image/ applyLayer (which refuses `..` names and
 * never writes through a symlink out of its target) applies it at the container's root: a
 * symlink planted in the container cannot send the write to the host.
 */
export async function copyToContainer(root: string, ref: string, src: string, dest: string): Promise<void> {
  const container = await inspectContainer(root, ref);
  if (container.state.Status !== 'running') {
    throw new ContainerError(
      `tbuild cp into a container needs it running: ${ref} is ${container.state.Status}`,
    );
  }
  await lstat(src).catch(() => {
    throw new ContainerError(`could not find the file ${src}`);
  });
  await withContainerFs(root, container, async (dir) => {
    const existing = await stat(resolveInRoot(dir, dest)).catch(() => undefined);
    // Docker's archive rules: into an existing directory the source goes under its own name.
    const target = posix.normalize(existing?.isDirectory() ? posix.join(dest, basename(src)) : dest);
    const inside = target.replace(/^\/+/, '');
    if (inside === '' || inside === '.' || inside.startsWith('../')) {
      throw new ContainerError(`invalid destination ${dest}`);
    }
    const name = basename(src);
    // sed's s command as tar applies it: the pattern quotes the basic-regex characters, the
    // replacement `\` and `&`; the delimiter is a character neither contains (an escaped
    // delimiter is not always literal: `\|` is GNU's alternation).
    const quotePattern = (text: string) => text.replace(/[\\^$.*[\]]/g, '\\$&');
    const quoteReplacement = (text: string) => text.replace(/[\\&]/g, '\\$&');
    const delimiter = ['|', ',', '#', '@', '%', ':', ';', '!', '~', '\u0001'].find(
      (ch) => !name.includes(ch) && !inside.includes(ch),
    );
    if (delimiter === undefined) throw new ContainerError(`cannot copy a file named ${JSON.stringify(name)}`);
    const transform = `s${delimiter}^${quotePattern(name)}${delimiter}${quoteReplacement(inside)}${delimiter}S`;
    const tar = spawn('tar', ['-C', dirname(src), '-cf', '-', `--transform=${transform}`, '--', name], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    tar.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const exited = new Promise<number | null>((resolve) => tar.once('close', resolve));
    // Read whole first: applyLayer sniffs its input's first bytes and saw a pipe that had not
    // delivered any yet as an empty layer. cp sources are small; a streaming form is a loose end.
    const chunks: Buffer[] = [];
    for await (const chunk of tar.stdout) chunks.push(chunk as Buffer);
    await applyLayer(Readable.from([Buffer.concat(chunks)]), dir);
    if ((await exited) !== 0) throw new ContainerError(`could not read ${src}: ${stderr.trim()}`);
  });
}

/**
 * `cp -a` semantics (GNU coreutils): modes, owners, times and links kept; a directory copied
 * into an existing directory lands under its own name, as Docker's archive rules say.
 */
function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--no-dereference', '--', from, to], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new ContainerError(stderr.trim() || `cp exited with ${code}`)),
    );
  });
}
