/**
 * `commit`: a new image from a container, as moby's daemon/commit.go makes it: the image's
 * layers plus one layer packed from the container's writable layer (the active snapshot's
 * overlay upperdir; whiteouts and opaque directories become `.wh.` entries), the container's
 * config with `--change` instructions applied, and one history entry (author, comment, the
 * container's Cmd as `created_by`). A running container is paused while its layer is packed
 * (Docker's default, `--pause=false` to skip). An unchanged container adds no layer: its
 * history entry is marked `empty_layer`, as Docker marks a commit whose diff is the empty tar.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { activeSnapshotPaths } from '../cache/index.ts';
import {
  applyChanges,
  type ContainerConfig,
  type Digest,
  digestOf,
  type ImageConfig,
  ImageStore,
  MediaType,
  packLayer,
  StoreError,
} from '../image/index.ts';
import type { Container } from './container.ts';
import { containersRuncRoot } from './container-store.ts';
import { ContainerError, RunError } from './errors.ts';
import { inspectContainer } from './lifecycle.ts';
import { runc } from './monitor.ts';
import { isActive } from './state-sync.ts';

/** The sha256 of an empty tar (two zero blocks): Docker's DigestSHA256EmptyTar. */
const emptyTarDiffId = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitContainerRequest {
  /** REPOSITORY[:TAG]; none = an untagged image. */
  tag?: string;
  author?: string;
  message?: string;
  /** `-c` Dockerfile instructions (CMD, ENV, …) applied to the committed config. */
  changes: string[];
  pause: boolean;
}

/** Commits and resolves with the new image's id (its config digest). */
export async function commitContainer(
  root: string,
  ref: string,
  request: CommitContainerRequest,
): Promise<Digest> {
  const container = await inspectContainer(root, ref);
  const pause = request.pause && container.state.Status === 'running';
  const runcRoot = containersRuncRoot(root);
  if (pause) {
    const r = await runc(runcRoot, ['pause', container.record.Id]);
    if (r.code !== 0) throw new ContainerError(`cannot pause container ${ref}: ${r.stderr.trim()}`);
  }
  try {
    return await commitLayer(root, container, request);
  } finally {
    if (pause) await runc(runcRoot, ['resume', container.record.Id]);
  }
}

async function commitLayer(
  root: string,
  container: Container,
  request: CommitContainerRequest,
): Promise<Digest> {
  const { record } = container;
  const store = await ImageStore.open(root);
  let scratch: string | undefined;
  try {
    const base = await store.resolve(record.ImageId);
    let config: ContainerConfig;
    try {
      config = applyChanges(committedConfig(container, base.config.config ?? {}), request.changes);
    } catch (error) {
      if (error instanceof StoreError) throw new RunError(error.message);
      throw error;
    }
    let upperdir = activeSnapshotPaths(root, record.Id).fs;
    // A container that never started has no writable layer yet: its diff is empty.
    if (!isActive(container) && container.state.StartedAt.startsWith('0001')) {
      scratch = await mkdtemp(join(root, 'tmp', 'commit-'));
      upperdir = scratch;
    }
    const packed = packLayer({ kind: 'overlay', upperdir });
    const blob = await store.putBlob(packed.stream, { what: 'container layer' });
    const digests = await packed.digests;
    const empty = digests.diffID === emptyTarDiffId;
    const created = new Date().toISOString();
    const image: ImageConfig = {
      ...base.config,
      created,
      ...(request.author ? { author: request.author } : {}),
      config,
      rootfs: {
        type: 'layers',
        diff_ids: [...base.config.rootfs.diff_ids, ...(empty ? [] : [digests.diffID as Digest])],
      },
      history: [
        ...(base.config.history ?? []),
        {
          created,
          ...(request.author ? { author: request.author } : {}),
          created_by: (record.Config.Cmd ?? []).join(' '),
          ...(request.message ? { comment: request.message } : {}),
          ...(empty ? { empty_layer: true } : {}),
        },
      ],
    };
    const layers = [
      ...base.manifest.layers,
      ...(empty ? [] : [{ mediaType: MediaType.ociLayerGzip, digest: blob.digest, size: blob.size }]),
    ];
    if (!empty) store.recordLayerSize(blob.digest, digests.unpackedSize);
    await store.putImage({ config: image, layers }, request.tag ? [request.tag] : []);
    // The image id is the config digest (putImage stores the config as this JSON).
    return digestOf(JSON.stringify(image));
  } finally {
    await store.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The image config a commit starts from: the container's (moby daemon/commit.go merges the
 * container's Config over the image's), so a `run -e` or `-w` becomes part of the new image.
 */
function committedConfig(container: Container, image: ContainerConfig): ContainerConfig {
  const c = container.record.Config;
  const config: ContainerConfig = { ...image, Env: c.Env };
  if (c.Cmd !== null) config.Cmd = c.Cmd;
  else delete config.Cmd;
  if (c.Entrypoint !== null) config.Entrypoint = c.Entrypoint;
  else delete config.Entrypoint;
  if (c.WorkingDir) config.WorkingDir = c.WorkingDir;
  if (c.User) config.User = c.User;
  if (Object.keys(c.Labels).length > 0) config.Labels = c.Labels;
  return config;
}
