// Image store throughput against skopeo on the same ~500 MB docker archive, and tbuild's peak
// RSS (it must stream: well under 200 MB). Run: node --import tsx bench/store.ts [SIZE_MB]
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

const sizeMb = Number(process.argv[2] ?? 500);
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tbuild-bench-store-'));

/** A docker-save archive with 5 layers of incompressible data, manifest.json last. */
async function writeArchive(path: string, totalBytes: number): Promise<void> {
  const layers = 5;
  const per = Math.floor(totalBytes / layers / (1 << 20)) * (1 << 20);
  const block = randomBytes(1 << 20);
  const outer = tar.pack();
  const written = pipeline(outer, createWriteStream(path));
  const diffIds: string[] = [];
  for (let l = 0; l < layers; l++) {
    const entry = outer.entry({
      name: `l${l}/layer.tar`,
      size: 512 + per + 1024,
      mtime: new Date(0),
    }) as unknown as NodeJS.WritableStream;
    const inner = tar.pack();
    const file = inner.entry({
      name: `data${l}.bin`,
      size: per,
      mtime: new Date(0),
    }) as unknown as NodeJS.WritableStream;
    const feed = (async () => {
      for (let i = 0; i < per / block.length; i++) {
        block.writeUInt32LE(l * 100_000 + i, 0);
        if (!file.write(Buffer.from(block))) await new Promise<void>((r) => file.once('drain', () => r()));
      }
      file.end();
      inner.finalize();
    })();
    const hash = createHash('sha256');
    for await (const chunk of inner as unknown as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (!entry.write(chunk)) await new Promise<void>((r) => entry.once('drain', () => r()));
    }
    await feed;
    await new Promise<void>((r) => {
      entry.once('finish', () => r());
      entry.end();
    });
    diffIds.push(`sha256:${hash.digest('hex')}`);
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
    const child = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')} failed: ${err}`));
      const kb = Number(err.trim().split('\n').at(-1));
      done({ seconds, rssMb: kb / 1024 });
    });
  });
}

const tbuild = (args: string[]) =>
  measure(process.execPath, [join(repo, 'bin', 'tbuild.js'), '--root', join(work, 'root'), ...args]);
const fmt = (n: number) => n.toFixed(2);

try {
  const archive = join(work, 'image.tar');
  await writeArchive(archive, sizeMb << 20);
  const load = await tbuild(['load', '-i', archive]);
  const skopeoLoad = await measure('skopeo', [
    'copy',
    '-q',
    `docker-archive:${archive}`,
    `oci:${join(work, 'skopeo-oci')}:bench`,
  ]);
  const save = await tbuild(['save', '-o', join(work, 'saved.tar'), 'bench']);
  const saveOci = await tbuild(['save', '--format', 'oci', '-o', join(work, 'saved-oci.tar'), 'bench']);
  const skopeoSave = await measure('skopeo', [
    'copy',
    '-q',
    `oci:${join(work, 'skopeo-oci')}:bench`,
    `docker-archive:${join(work, 'skopeo.tar')}:bench:latest`,
  ]);
  const mbps = (s: number) => fmt(sizeMb / s);
  console.log(`archive: ${sizeMb} MiB, 5 layers`);
  console.log(
    `load        tbuild ${fmt(load.seconds)} s (${mbps(load.seconds)} MiB/s, peak RSS ${fmt(load.rssMb)} MiB)`,
  );
  console.log(
    `            skopeo copy docker-archive → oci ${fmt(skopeoLoad.seconds)} s (peak RSS ${fmt(skopeoLoad.rssMb)} MiB)`,
  );
  console.log(`            ratio tbuild/skopeo ${fmt(load.seconds / skopeoLoad.seconds)}`);
  console.log(
    `save docker tbuild ${fmt(save.seconds)} s (${mbps(save.seconds)} MiB/s, peak RSS ${fmt(save.rssMb)} MiB)`,
  );
  console.log(`save oci    tbuild ${fmt(saveOci.seconds)} s (peak RSS ${fmt(saveOci.rssMb)} MiB)`);
  console.log(
    `            skopeo copy oci → docker-archive ${fmt(skopeoSave.seconds)} s (peak RSS ${fmt(skopeoSave.rssMb)} MiB)`,
  );
  console.log(`            ratio tbuild/skopeo ${fmt(save.seconds / skopeoSave.seconds)}`);
  const peak = Math.max(load.rssMb, save.rssMb, saveOci.rssMb);
  console.log(
    `peak RSS of tbuild: ${fmt(peak)} MiB ${peak < 200 ? '(streams: under 200 MiB)' : '(TOO HIGH: over 200 MiB)'}`,
  );
  if (peak >= 200) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
