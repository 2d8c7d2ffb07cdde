// Child process for layer-memory.test.ts: packs and applies a 300 MB sparse file and prints its
// peak RSS. `baseline` only loads the modules, to show what the runtime itself costs.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { applyLayer, packLayer } from '../../image/index.ts';

const [mode, dir] = process.argv.slice(2) as [string, string];
const SIZE = 300 * 1024 * 1024;
const result: Record<string, number | string> = {};
if (mode === 'pack-apply') {
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'big'), '');
  await truncate(join(src, 'big'), SIZE);
  const blob = join(dir, 'layer.tar.gz');
  const packed = packLayer({ kind: 'directory', path: src });
  await pipeline(packed.stream, createWriteStream(blob));
  const digests = await packed.digests;
  result.afterPackMaxRSS = process.resourceUsage().maxRSS;
  const applied = await applyLayer(createReadStream(blob), join(dir, 'out'));
  result.blobSize = digests.size;
  result.appliedSize = (await stat(join(dir, 'out', 'big'))).size;
  result.sameDiffID = String(applied.diffID === digests.diffID);
}
result.maxRSS = process.resourceUsage().maxRSS; // KiB
process.stdout.write(`${JSON.stringify(result)}\n`);
