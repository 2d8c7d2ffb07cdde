// Shared by the image-store and image-command tests: temp dirs, the busybox fixture archive,
// and a runner for the real CLI (`bin/tbuild.js`, a child process, as a user runs it).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTbuild } from '../tbuild-entry.ts';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

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
  return runTbuild(['--root', root, ...args], input === undefined ? {} : { stdin: input });
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

/** sha256 of `data`, in hex. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An entry of a hand-made layer: a file by default (its data its name and a newline), or a link. */
export interface LayerEntry {
  name: string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
  data?: Buffer | string;
}

/** A layer tar of `entries`, written as given (tar-stream keeps `..` and links out of the layer). */
export async function layerTar(entries: LayerEntry[]): Promise<Buffer> {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  for (const { data, ...header } of entries) {
    const isFile = header.type === undefined || header.type === 'file';
    const mode = header.type === 'directory' ? 0o755 : 0o644;
    pack.entry({ mtime: new Date(0), mode, ...header }, data ?? (isFile ? `${header.name}\n` : ''));
  }
  pack.finalize();
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * A one-image OCI layout archive with `layer` as its only layer; the options may break it:
 * `diffId` is what the config says of the layer, `dropLayer` leaves its blob out, `name` the
 * `io.containerd.image.name` the image loads as (none: untagged).
 */
export async function ociLayoutArchive(
  layer: Buffer,
  options: { layerType?: string; diffId?: string; dropLayer?: boolean; name?: string } = {},
): Promise<Buffer> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [options.diffId ?? `sha256:${sha256Hex(layer)}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256Hex(config)}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: options.layerType ?? 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha256:${sha256Hex(layer)}`,
          size: layer.length,
        },
      ],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha256Hex(manifest)}`,
        size: manifest.length,
        ...(options.name ? { annotations: { 'io.containerd.image.name': options.name } } : {}),
      },
    ],
  };
  const files: { name: string; data: Uint8Array | string }[] = [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: `blobs/sha256/${sha256Hex(config)}`, data: config },
    { name: `blobs/sha256/${sha256Hex(manifest)}`, data: manifest },
    { name: 'index.json', data: JSON.stringify(index) },
  ];
  if (!options.dropLayer) files.unshift({ name: `blobs/sha256/${sha256Hex(layer)}`, data: layer });
  return packTar(files);
}
