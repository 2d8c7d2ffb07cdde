// Faults between tbuild and the registry, injected by a small proxy of our own on 127.0.0.1: a blob
// served with wrong bytes (digest error, nothing stored), the registry killed in the middle of a
// push (the retry completes; or the push fails in one line and a rerun completes), 429 with
// Retry-After and a 503 (waited for and retried).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { skipReason } from '../needs.ts';
import {
  busyboxArchive,
  type ProxyHook,
  skopeo,
  startProxy,
  startRegistry,
  type TestRegistry,
  tbuild,
  tbuildOk,
  whyNoRegistry,
} from './helpers.ts';

const skip = skipReason(whyNoRegistry());
let work = '';
let root = '';
let registry: TestRegistry;
let hook: ProxyHook = (_req, _res, forward) => forward();
let proxy: { host: string; close(): Promise<void> };

const blobDir = (r: string) => join(r, 'image', 'blobs', 'sha256');
const isUpload = (req: IncomingMessage) =>
  (req.method === 'PUT' || req.method === 'PATCH') && /\/blobs\/uploads\//.test(req.url ?? '');

describe('registry faults', { skip }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-registry-faults-'));
    registry = await startRegistry(join(work, 'registry'));
    proxy = await startProxy(registry.host, (req, res, forward) => hook(req, res, forward));
    root = join(work, 'root');
    await tbuildOk(root, ['load', '-i', await busyboxArchive()]);
    await tbuildOk(root, ['tag', 'busybox', `${registry.host}/base:1`]);
    await tbuildOk(root, ['push', `${registry.host}/base:1`]);
  });
  after(async () => {
    hook = (_req, _res, forward) => forward();
    await proxy?.close();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a blob served with wrong bytes: digest error, nothing stored, no tag', async () => {
    let corrupted = 0;
    hook = (req, _res, forward) => {
      if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '')) {
        forward(
          (upstream) =>
            upstream.pipe(
              new Transform({
                transform(chunk: Buffer, _enc, cb) {
                  const copy = Buffer.from(chunk);
                  if (corrupted === 0 && copy.length > 100) {
                    copy[100] = (copy[100] ?? 0) ^ 0xff;
                    corrupted++;
                  }
                  cb(null, copy);
                },
              }),
            ) as NodeJS.ReadableStream,
        );
      } else forward();
    };
    const fresh = join(work, 'corrupt');
    await tbuildOk(fresh, ['images']);
    const before = (await readdir(blobDir(fresh))).sort();
    const r = await tbuild(fresh, ['pull', `${proxy.host}/base:1`]);
    hook = (_req, _res, forward) => forward();
    assert.equal(corrupted, 1);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: pull blob [a-f0-9]{12}: digest mismatch: expected sha256:[a-f0-9]{64}, got sha256:[a-f0-9]{64}\n$/,
    );
    assert.deepEqual((await readdir(blobDir(fresh))).sort(), before);
    assert.deepEqual(await readdir(join(fresh, 'image', 'tmp')), []);
    const images = await tbuildOk(fresh, ['images', '-q']);
    assert.equal(images, '');
    // The same pull without the fault completes.
    await tbuildOk(fresh, ['pull', `${proxy.host}/base:1`]);
  });

  it('429 with Retry-After is waited for; a 503 is retried', async () => {
    const seen: string[] = [];
    hook = (req, res, forward) => {
      const key = `${req.method} ${req.url?.replace(/sha256:[a-f0-9]+/, 'D')}`;
      seen.push(key);
      if (key.includes('/manifests/') && seen.filter((k) => k === key).length === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      } else if (key.includes('/blobs/') && seen.filter((k) => k === key).length === 1) {
        res.writeHead(503).end();
      } else forward();
    };
    const started = Date.now();
    const out = await tbuildOk(join(work, 'retry'), ['pull', `${proxy.host}/base:1`]);
    const elapsed = Date.now() - started;
    hook = (_req, _res, forward) => forward();
    assert.match(out, /Downloaded newer image/);
    assert.ok(elapsed >= 1000, `waited ${elapsed} ms`);
    assert.equal(seen.filter((k) => k.includes('/manifests/')).length, 2);
  });

  it('the registry killed in the middle of an upload: the retry completes the push', async () => {
    let killed = false;
    let restarted: Promise<void> | undefined;
    hook = (req, _res, forward) => {
      if (isUpload(req) && !killed) {
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > 64 << 10 && !killed) {
            killed = true;
            restarted = registry.kill().then(() => registry.start());
          }
        });
      }
      forward();
    };
    await tbuildOk(root, ['tag', 'busybox', `${proxy.host}/killed:1`]);
    const r = await tbuild(root, ['push', `${proxy.host}/killed:1`]);
    await restarted;
    hook = (_req, _res, forward) => forward();
    assert.ok(killed, 'the registry was killed mid-upload');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Pushed/);
    await verifyWithSkopeo(`${registry.host}/killed:1`);
  });

  it('the registry killed and left down: one-line failure; a rerun completes', async () => {
    let killed = false;
    hook = (req, _res, forward) => {
      if (isUpload(req) && !killed) {
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > 64 << 10 && !killed) {
            killed = true;
            void registry.kill();
          }
        });
      }
      forward();
    };
    // No local tag of this registry may hold the blobs, or the push would mount them instead.
    await tbuildOk(root, ['rmi', `${proxy.host}/killed:1`]);
    await tbuildOk(root, ['tag', 'busybox', `${proxy.host}/rerun:1`]);
    const failed = await tbuild(root, ['push', `${proxy.host}/rerun:1`]);
    hook = (_req, _res, forward) => forward();
    assert.ok(killed);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^ERROR: 127\.0\.0\.1:\d+: push blob [a-f0-9]{12} \([a-z ]+\): [^\n]+\n$/);
    const fsck = await tbuildOk(root, ['fsck']);
    assert.doesNotMatch(fsck, /problem/i);
    await registry.start();
    const rerun = await tbuildOk(root, ['push', `${proxy.host}/rerun:1`]);
    assert.match(rerun, /digest: sha256:/);
    await verifyWithSkopeo(`${registry.host}/rerun:1`);
  });
});

/** skopeo copies the image to a dir: every blob it wrote matches its name. */
async function verifyWithSkopeo(ref: string): Promise<void> {
  const dir = join(work, `verify-${Math.random().toString(16).slice(2)}`);
  await skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${dir}`]);
  const names = (await readdir(dir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
  assert.ok(names.length >= 2);
  for (const name of names) {
    const hex = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex');
    assert.equal(hex, name);
  }
}
