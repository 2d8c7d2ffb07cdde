// Per-step cost of a RUN, phase by phase, the way the build's op runner does it (solver/ops/
// exec.ts runExec + rootfs.ts commitWritable): overlay mount, runc, unmount, layer pack + store
// put, snapshot commit. Runs N chained `RUN echo` steps on busybox in a throwaway root and prints
// the median and total per phase. Needs root, runc, overlayfs and busybox-static.
//   node --import tsx bench/build/profile-steps.ts [STEPS] [ROOT_PARENT]
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { commitMutable } from '../../cache/index.ts';
import { createRuncExecutor } from '../../executor/index.ts';
import {
  ImageStore,
  loadArchive,
  mountWritableRootfs,
  packLayer,
  type SnapshotLayer,
} from '../../image/index.ts';

const steps = Number(process.argv[2] ?? 30);
const parent = process.argv[3] ?? tmpdir();
const repo = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(parent, 'tbuild-profile-'));
const root = join(work, 'root');
const times = new Map<string, number[]>();
const timed = async <T>(phase: string, fn: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    const list = times.get(phase) ?? [];
    list.push(performance.now() - t);
    times.set(phase, list);
  }
};

try {
  const archive = join(work, 'busybox.tar');
  execFileSync('bash', [join(repo, 'fixtures/make-busybox-image.sh'), archive]);
  const store = await ImageStore.open(root);
  await loadArchive(store, createReadStream(archive), archive);
  const image = await store.resolve('busybox:latest');
  let layers: SnapshotLayer[] = image.manifest.layers.map((blob, i) => ({
    diffId: image.config.rootfs.diff_ids[i] as string,
    blob,
  }));
  const executor = createRuncExecutor({ stateDir: join(root, 'runc') });
  const io = { stdout() {}, stderr() {} };
  const signal = new AbortController().signal;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const rootfs = await timed('mount overlay', () => mountWritableRootfs(root, store, layers));
    await timed('runc run', () =>
      executor.run(
        rootfs.path,
        [],
        {
          args: ['/bin/sh', '-c', `mkdir -p /l && echo ${i} > /l/f${i}`],
          env: [],
          cwd: '/',
          user: '',
          network: 'none',
        },
        io,
        signal,
      ),
    );
    await timed('unmount', async () => {
      await rootfs.view.unmount();
      await rm(rootfs.path, { recursive: true, force: true });
    });
    await timed('pack only (no store)', async () => {
      const dry = packLayer({ kind: 'overlay', upperdir: rootfs.mutable.fs });
      for await (const _ of dry.stream) {
      }
      await dry.digests;
    });
    const packed = packLayer({ kind: 'overlay', upperdir: rootfs.mutable.fs });
    const blob = await timed('pack + putBlob', () => store.putBlob(packed.stream, { what: 'layer' }));
    const digests = await packed.digests;
    await timed('commit snapshot', () => commitMutable(root, rootfs.mutable, digests.diffID));
    layers = [
      ...layers,
      {
        diffId: digests.diffID,
        blob: {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: blob.digest,
          size: blob.size,
        },
      },
    ];
    const list = times.get('step total') ?? [];
    list.push(performance.now() - t0);
    times.set('step total', list);
  }
  await store.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  console.log(`${steps} steps, root on ${parent}`);
  for (const [phase, xs] of times) {
    const total = xs.reduce((a, b) => a + b, 0);
    console.log(
      `${phase.padEnd(16)} median ${median(xs).toFixed(1).padStart(6)} ms  total ${(total / 1000).toFixed(2)} s`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
