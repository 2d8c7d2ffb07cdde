// Shared pieces of the benches: a generated docker-save archive and a timed child process.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** A docker-save archive with 5 layers of incompressible data, manifest.json last. */
export async function writeArchive(path: string, totalBytes: number): Promise<void> {
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
export function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ seconds: number; rssMb: number }> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
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
