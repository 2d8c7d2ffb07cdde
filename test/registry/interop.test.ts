// tbuild against Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1, with skopeo as the
// independent client: what tbuild pushes skopeo reads back byte for byte; what skopeo pushes
// (a Docker schema 2 image, a multi-platform OCI index) tbuild pulls and runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageStore, parseReference } from '../../image/index.ts';
import { connectRegistry, pushImage } from '../../registry/index.ts';
import { skipReason } from '../needs.ts';
import {
  busyboxArchive,
  skopeo,
  startRegistry,
  type TestRegistry,
  tbuild,
  tbuildOk,
  whyNoRegistry,
  whyNoRuntime,
} from './helpers.ts';

const skip = skipReason(whyNoRegistry());
// The pull test also runs what it pulled: under CI, no runtime is a failure, not a shorter test.
const noRuntime = skipReason(whyNoRuntime());
let work = '';
let registry: TestRegistry;
let rootA = '';
let busyboxManifest = '';
let busyboxId = '';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function localImage(root: string, ref: string): Promise<{ manifest: string; id: string }> {
  const out = JSON.parse(await tbuildOk(root, ['inspect', ref])) as { Id: string; RepoDigests?: string[] }[];
  const store = await ImageStore.open(root);
  try {
    const image = await store.resolve(ref);
    assert.equal(out[0]?.Id, image.id);
    return { manifest: image.descriptor.digest, id: image.id };
  } finally {
    await store.close();
  }
}

describe('registry interoperability', { skip }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-registry-interop-'));
    registry = await startRegistry(join(work, 'registry'));
    rootA = join(work, 'a');
    await tbuildOk(rootA, ['load', '-i', await busyboxArchive()]);
    ({ manifest: busyboxManifest, id: busyboxId } = await localImage(rootA, 'busybox'));
  });
  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('push: skopeo sees the same manifest digest and copies every blob intact', async () => {
    const ref = `${registry.host}/base:1`;
    await tbuildOk(rootA, ['tag', 'busybox', ref]);
    const out = await tbuildOk(rootA, ['push', ref]);
    assert.match(out, /: Pushed\n/);
    assert.match(out, new RegExp(`1: digest: ${busyboxManifest} size: \\d+`));
    const inspect = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${ref}`])) as {
      Digest: string;
    };
    assert.equal(inspect.Digest, busyboxManifest);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    assert.equal(`sha256:${sha(raw)}`, busyboxManifest);
    const dir = join(work, 'skopeo-copy');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:x`]);
    const config = await skopeo(['inspect', '--config', '--raw', `oci:${dir}:x`]);
    assert.equal(`sha256:${sha(config)}`, busyboxId);
  });

  it('a second push skips every blob; another repository mounts them', async () => {
    const again = await tbuildOk(rootA, ['push', `${registry.host}/base:1`]);
    assert.match(again, /Layer already exists/);
    assert.doesNotMatch(again, /Pushed/);
    const other = `${registry.host}/team/other:2`;
    await tbuildOk(rootA, ['tag', 'busybox', other]);
    const mounted = await tbuildOk(rootA, ['push', other]);
    assert.match(mounted, /Mounted from base/);
    const inspect = JSON.parse(await skopeo(['inspect', '--tls-verify=false', `docker://${other}`])) as {
      Digest: string;
    };
    assert.equal(inspect.Digest, busyboxManifest);
  });

  it('chunked upload (PATCH with Content-Range) gives the same blobs', async () => {
    const store = await ImageStore.open(rootA);
    try {
      const target = parseReference(`${registry.host}/chunked:1`);
      const client = await connectRegistry(registry.host, { root: rootA });
      const result = await pushImage(store, client, 'busybox', target, { chunkSize: 256 << 10 });
      assert.equal(result.digest, busyboxManifest);
      assert.ok(result.uploaded > 1 << 20, `uploaded ${result.uploaded} bytes`);
    } finally {
      await store.close();
    }
    const dir = join(work, 'skopeo-chunked');
    await skopeo(['copy', '--src-tls-verify=false', `docker://${registry.host}/chunked:1`, `dir:${dir}`]);
    const names = await readdir(dir);
    for (const name of names.filter((n) => /^[a-f0-9]{64}$/.test(n))) {
      assert.equal(sha(await readFile(join(dir, name))), name, `blob ${name} intact`);
    }
  });

  it('pull: what skopeo pushed as Docker schema 2 arrives, verified, and runs', async () => {
    const ref = `${registry.host}/skopeo/v2s2:latest`;
    await skopeo([
      'copy',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${join(rootA, 'image')}:docker.io/library/busybox:latest`,
      `docker://${ref}`,
    ]);
    const rootB = join(work, 'b');
    const out = await tbuildOk(rootB, ['pull', `${registry.host}/skopeo/v2s2`]);
    assert.match(out, /Pull complete/);
    assert.match(out, /Status: Downloaded newer image for/);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    assert.equal(JSON.parse(raw).mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    const pulled = await localImage(rootB, ref);
    assert.equal(pulled.manifest, `sha256:${sha(raw)}`);
    assert.equal(pulled.id, busyboxId);
    const fsck = await tbuildOk(rootB, ['fsck']);
    assert.doesNotMatch(fsck, /problem/i);
    const second = await tbuildOk(rootB, ['pull', ref]);
    assert.match(second, /Image is up to date/);
    if (!noRuntime) {
      const run = await tbuild(rootB, ['run', ref, 'sh', '-c', 'echo pulled-$((6*7))']);
      assert.equal(run.stdout, 'pulled-42\n', run.stderr);
    }
  });

  it('pull of a multi-platform index picks linux/amd64, or --platform', async () => {
    const layout = join(work, 'multi-layout');
    await skopeo([
      'copy',
      `oci:${join(rootA, 'image')}:docker.io/library/busybox:latest`,
      `oci:${layout}:amd64`,
    ]);
    const blob = (hex: string) => join(layout, 'blobs', 'sha256', hex);
    const put = async (data: string) => {
      const hex = sha(data);
      await writeFile(blob(hex), data);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
    };
    const layoutIndex = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; size: number; mediaType: string }[];
    };
    const amd64 = layoutIndex.manifests[0] as { digest: string; size: number; mediaType: string };
    const manifest = JSON.parse(await readFile(blob(amd64.digest.slice(7)), 'utf8'));
    const config = JSON.parse(await readFile(blob(manifest.config.digest.slice(7)), 'utf8'));
    const armConfig = await put(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' }));
    const armManifest = await put(
      JSON.stringify({ ...manifest, config: { ...manifest.config, ...armConfig } }),
    );
    const index = await put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: manifest.mediaType,
            ...armManifest,
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          },
          {
            mediaType: manifest.mediaType,
            digest: amd64.digest,
            size: amd64.size,
            platform: { os: 'linux', architecture: 'amd64' },
          },
        ],
      }),
    );
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            ...index,
            annotations: { 'org.opencontainers.image.ref.name': 'multi' },
          },
        ],
      }),
    );
    const ref = `${registry.host}/multi:1`;
    await skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${layout}:multi`, `docker://${ref}`]);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
    const pushed = JSON.parse(raw) as { manifests: { platform: { architecture: string } }[] };
    assert.deepEqual(
      pushed.manifests.map((m) => m.platform.architecture),
      ['arm64', 'amd64'],
    );

    const rootC = join(work, 'c');
    const out = await tbuildOk(rootC, ['pull', ref]);
    assert.match(out, new RegExp(`Digest: sha256:${sha(raw)}`));
    assert.equal((await localImage(rootC, ref)).id, busyboxId);
    if (!noRuntime) {
      const run = await tbuild(rootC, ['run', ref, 'echo', 'multi-ok']);
      assert.equal(run.stdout, 'multi-ok\n', run.stderr);
    }
    const rootD = join(work, 'd');
    await tbuildOk(rootD, ['pull', '--platform', 'linux/arm64', ref]);
    assert.equal((await localImage(rootD, ref)).id, armConfig.digest);
    const none = await tbuild(rootD, ['pull', '--platform', 'linux/s390x', ref]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: pull manifest .*no manifest for platform linux\/s390x in the index \(has: linux\/arm64\/v8, linux\/amd64\)\n/,
    );
  });

  it('an unknown repository or tag is one clear line', async () => {
    const rootE = join(work, 'e');
    await mkdir(rootE, { recursive: true });
    const missing = await tbuild(rootE, ['pull', `${registry.host}/nothere:1`]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: pull manifest 127\.0\.0\.1:\d+\/nothere:1: 404 Not Found: (MANIFEST|NAME)_UNKNOWN/,
    );
    assert.equal(missing.stderr.split('\n').filter(Boolean).length, 1, missing.stderr);
    const push = await tbuild(rootE, ['push', `${registry.host}/nolocal:1`]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /An image does not exist locally with the tag/);
  });
});
