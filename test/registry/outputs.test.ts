// The pushing outputs of `build -o` (issue 17): `type=registry` and `type=image,push=true` put the
// image in a local registry; skopeo (not tbuild) reads it back and finds the manifest the build's
// --metadata-file names.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import {
  busyboxArchive,
  skopeo,
  startRegistry,
  type TestRegistry,
  tbuildOk,
  whyNoRegistry,
  whyNoRuntime,
} from './helpers.ts';

const skip = skipReason(whyNoRegistry() || whyNoRuntime() || needCommands('skopeo'));
let work = '';
let registry: TestRegistry;
let root = '';
let ctx = '';

describe('pushing outputs', { skip }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-registry-outputs-'));
    registry = await startRegistry(join(work, 'registry'));
    root = join(work, 'root');
    await tbuildOk(root, ['load', '-i', await busyboxArchive()]);
    ctx = join(work, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo pushed > /pushed\n');
  });
  after(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** The manifest digest skopeo sees at `ref` in the registry. */
  async function remoteDigest(ref: string): Promise<string> {
    const out = await skopeo(['inspect', '--tls-verify=false', `docker://${ref}`]);
    return (JSON.parse(out) as { Digest: string }).Digest;
  }

  async function built(args: string[]): Promise<Record<string, string>> {
    const meta = join(work, `meta-${Math.random().toString(16).slice(2)}.json`);
    await tbuildOk(root, ['build', '--progress', 'plain', '--metadata-file', meta, ...args, ctx]);
    return JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>;
  }

  it('-o type=registry with -t pushes the image under the tag', async () => {
    const ref = `${registry.host}/outputs/registry:1`;
    const metadata = await built(['-o', 'type=registry', '-t', ref]);
    assert.equal(metadata['image.name'], ref);
    assert.equal(await remoteDigest(ref), metadata['containerimage.digest']);
  });

  it('-o type=image,name=A,B,push=true pushes every name (no -t)', async () => {
    const a = `${registry.host}/outputs/image:a`;
    const b = `${registry.host}/outputs/image:b`;
    const metadata = await built(['-o', `type=image,"name=${a},${b}",push=true`]);
    assert.equal(metadata['image.name'], `${a},${b}`);
    assert.equal(await remoteDigest(a), metadata['containerimage.digest']);
    assert.equal(await remoteDigest(b), metadata['containerimage.digest']);
    // The image is in the store too, under both names.
    const names = await tbuildOk(root, ['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(
      names
        .split('\n')
        .filter((n) => n.includes('/outputs/image'))
        .sort(),
      [a, b],
    );
  });
});
