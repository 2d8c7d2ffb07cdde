import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measure, writeArchive } from './lib.ts';

const sizeMb = Number(process.argv[2] ?? 500);
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tbuild-bench-store-'));

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
