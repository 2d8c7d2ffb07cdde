// Packing and applying stream: a 300 MB file never sits in memory. Peak RSS is measured in a
// child process (and reported); this is not a timing test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from './layer-helpers.ts';

const child = join(import.meta.dirname, 'layer-memory-child.ts');

function runChild(mode: string, dir: string): Record<string, number | string> {
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, mode, dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, number | string>;
}

test('packing and applying a 300 MB file keeps peak RSS far below the file size', async (t) => {
  const tmp = await makeTempDir('layer-memory');
  try {
    const baseline = runChild('baseline', tmp.dir);
    const measured = runChild('pack-apply', tmp.dir);
    assert.equal(measured.appliedSize, 300 * 1024 * 1024);
    assert.equal(measured.sameDiffID, 'true');
    const baseMiB = Number(baseline.maxRSS) / 1024;
    const packMiB = Number(measured.afterPackMaxRSS) / 1024;
    const peakMiB = Number(measured.maxRSS) / 1024;
    t.diagnostic(
      `peak RSS: baseline ${baseMiB.toFixed(1)} MiB, after pack ${packMiB.toFixed(1)} MiB, ` +
        `after apply ${peakMiB.toFixed(1)} MiB (300 MiB file, blob ${measured.blobSize} bytes)`,
    );
    // Buffering the file would add ≥300 MiB; streaming adds a few chunks and zlib state.
    assert.ok(peakMiB - baseMiB < 100, `peak RSS grew by ${(peakMiB - baseMiB).toFixed(1)} MiB`);
  } finally {
    await tmp.cleanup();
  }
});
