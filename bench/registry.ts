// Registry push and pull of a ~500 MB image (5 incompressible, uncompressed layers) against
// `skopeo copy` to and from the same kind of registry (docker-registry 2.8 on 127.0.0.1), with
// tbuild's peak RSS. Each side gets a fresh registry, so neither finds blobs already there.
// Run: node --import tsx bench/registry.ts [SIZE_MB]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { startRegistry } from '../test/registry/helpers.ts';

const sizeMb = Number(process.argv[2] ?? 500);
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tbuild-bench-registry-'));

/** A docker-save archive with 5 layers, each one file of random bytes. */
async function writeArchive(path: string, totalBytes: number): Promise<void> {
  const layers = 5;
  const per = Math.floor(totalBytes / layers / (1 << 20)) * (1 << 20);
  const outer = tar.pack();
  const written = pipeline(outer, createWriteStream(path));
  const diffIds: string[] = [];
  for (let l = 0; l < layers; l++) {
    const inner = tar.pack();
    const chunks: Buffer[] = [];
    const collected = (async () => {
      for await (const c of inner as unknown as AsyncIterable<Buffer>) chunks.push(c);
    })();
    inner.entry({ name: `data${l}.bin`, mtime: new Date(0) }, randomBytes(per));
    inner.finalize();
    await collected;
    const layer = Buffer.concat(chunks);
    diffIds.push(`sha256:${createHash('sha256').update(layer).digest('hex')}`);
    outer.entry({ name: `l${l}/layer.tar`, mtime: new Date(0) }, layer);
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds },
  });
  const hex = createHash('sha256').update(config).digest('hex');
  outer.entry({ name: `${hex}.json`, mtime: new Date(0) }, config);
  const manifest = [
    { Config: `${hex}.json`, RepoTags: ['bench:latest'], Layers: diffIds.map((_, l) => `l${l}/layer.tar`) },
  ];
  outer.entry({ name: 'manifest.json', mtime: new Date(0) }, JSON.stringify(manifest));
  outer.finalize();
  await written;
}

/** Runs a command under GNU time; returns wall seconds and peak RSS in MiB. */
function measure(cmd: string, args: string[]): Promise<{ seconds: number; rssMb: number }> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DOCKER_CONFIG: join(work, 'docker') },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')} failed: ${err}`));
      done({ seconds, rssMb: Number(err.trim().split('\n').at(-1)) / 1024 });
    });
  });
}

const tbuild = (root: string, args: string[]) =>
  measure(process.execPath, [join(repo, 'bin', 'tbuild.js'), '--root', join(work, root), ...args]);
const fmt = (n: number) => n.toFixed(2);

const registries: { stop(): Promise<void> }[] = [];
try {
  const archive = join(work, 'image.tar');
  await writeArchive(archive, sizeMb << 20);
  await tbuild('root', ['load', '-i', archive]);
  const forTbuild = await startRegistry(join(work, 'reg-tbuild'));
  const forSkopeo = await startRegistry(join(work, 'reg-skopeo'));
  registries.push(forTbuild, forSkopeo);
  const target = `${forTbuild.host}/bench:1`;
  await tbuild('root', ['tag', 'bench', target]);

  const push = await tbuild('root', ['push', target]);
  const skopeoPush = await measure('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    `oci:${join(work, 'root', 'image')}:docker.io/library/bench:latest`,
    `docker://${forSkopeo.host}/bench:1`,
  ]);
  const pull = await tbuild('root2', ['pull', target]);
  const skopeoPull = await measure('skopeo', [
    'copy',
    '-q',
    '--src-tls-verify=false',
    `docker://${forSkopeo.host}/bench:1`,
    `oci:${join(work, 'skopeo-oci')}:bench`,
  ]);
  const mbps = (s: number) => fmt(sizeMb / s);
  console.log(`image: ${sizeMb} MiB, 5 uncompressed layers, registry on 127.0.0.1`);
  console.log(
    `push  tbuild ${fmt(push.seconds)} s (${mbps(push.seconds)} MiB/s, peak RSS ${fmt(push.rssMb)} MiB)`,
  );
  console.log(`      skopeo ${fmt(skopeoPush.seconds)} s (peak RSS ${fmt(skopeoPush.rssMb)} MiB)`);
  console.log(`      ratio tbuild/skopeo ${fmt(push.seconds / skopeoPush.seconds)}`);
  console.log(
    `pull  tbuild ${fmt(pull.seconds)} s (${mbps(pull.seconds)} MiB/s, peak RSS ${fmt(pull.rssMb)} MiB)`,
  );
  console.log(`      skopeo ${fmt(skopeoPull.seconds)} s (peak RSS ${fmt(skopeoPull.rssMb)} MiB)`);
  console.log(`      ratio tbuild/skopeo ${fmt(pull.seconds / skopeoPull.seconds)}`);
} finally {
  for (const r of registries) await r.stop();
  rmSync(work, { recursive: true, force: true });
}
