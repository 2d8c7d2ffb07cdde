// Shared by the image-store and image-command tests: temp dirs, the busybox fixture archive,
// and a runner for the real CLI (`bin/tbuild.js`, a child process, as a user runs it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
const bin = join(repoRoot, 'bin', 'tbuild.js');

/** A fresh temp dir, removed by the returned cleanup function. */
export function makeTempDir(prefix = 'tbuild-image-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Builds the busybox `docker save` archive with fixtures/make-busybox-image.sh. */
export function makeBusyboxArchive(out: string, tag = 'busybox:latest'): void {
  const r = spawnSync(join(repoRoot, 'fixtures', 'make-busybox-image.sh'), [out, tag], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-busybox-image.sh failed: ${r.stderr}`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tbuild --root ROOT args…` and collects its output. */
export function tbuild(root: string, args: string[], input?: Buffer): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, '--root', root, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TBUILD_ROOT: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Runs a program synchronously and fails loudly when it fails. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Packs in-memory files into a tar (for hand-made, possibly broken, archives). */
export async function packTar(files: { name: string; data: Uint8Array | string }[]): Promise<Buffer> {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  for (const f of files) pack.entry({ name: f.name, mtime: new Date(0) }, f.data);
  pack.finalize();
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Reads every regular file of a tar into memory (small test archives only). */
export async function unpackTar(data: Buffer): Promise<Map<string, Buffer>> {
  const tar = (await import('tar-stream')).default;
  const extract = tar.extract();
  const files = new Map<string, Buffer>();
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      if (entry.header.type === 'file') files.set(entry.header.name, Buffer.concat(parts));
    }
  })();
  extract.end(data);
  await done;
  return files;
}
