import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRegistry } from '../test/registry/helpers.ts';
import { measure, writeArchive } from './lib.ts';

const sizeMb = Number(process.argv[2] ?? 500);
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tbuild-bench-registry-'));

/** Commands run with a Docker config of the bench's own (credentials never touch the user's). */
const measureHere = (cmd: string, args: string[]) =>
  measure(cmd, args, { ...process.env, DOCKER_CONFIG: join(work, 'docker') });

const tbuild = (root: string, args: string[]) =>
  measureHere(process.execPath, [join(repo, 'bin', 'tbuild.js'), '--root', join(work, root), ...args]);
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
  const skopeoPush = await measureHere('skopeo', [
    'copy',
    '-q',
    '--dest-tls-verify=false',
    `oci:${join(work, 'root', 'image')}:docker.io/library/bench:latest`,
    `docker://${forSkopeo.host}/bench:1`,
  ]);
  const pull = await tbuild('root2', ['pull', target]);
  const skopeoPull = await measureHere('skopeo', [
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
