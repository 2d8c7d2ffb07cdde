// A hostile registry of our own on 127.0.0.1 (issue 12, finding 6): a layer declared as 2 kB that
// streams without end, a body that stalls, an answer that never comes. tbuild must stop reading at
// the declared size, never hold more than it on disk, and end a stalled request with one line.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { packTar } from '../image/helpers.ts';
import { tbuild } from './helpers.ts';

const sha = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** What the registry does with the layer GET. */
type LayerMode = 'endless' | 'stall-body' | 'stall-headers-once' | 'honest';

interface Hostile {
  host: string;
  mode: LayerMode;
  /** Bytes of the layer body written to sockets so far. */
  layerBytesSent: number;
  layerRequests: number;
  close(): Promise<void>;
}

async function startHostileRegistry(): Promise<Hostile> {
  const tar = await packTar([{ name: 'hello.txt', data: 'hello from a hostile registry\n' }]);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha(tar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length },
      ],
    }),
  );
  const stalled = new Set<ServerResponse>();
  const state: Hostile = {
    host: '',
    mode: 'honest',
    layerBytesSent: 0,
    layerRequests: 0,
    close: async () => {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const serveLayer = (res: ServerResponse) => {
    state.layerRequests++;
    const mode = state.mode;
    if (mode === 'stall-headers-once' && state.layerRequests === 1) {
      stalled.add(res); // never answered
      return;
    }
    if (mode === 'honest' || mode === 'stall-headers-once') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': layer.length });
      res.end(layer);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    if (mode === 'stall-body') {
      stalled.add(res);
      res.write(layer.subarray(0, 100));
      return;
    }
    // endless: 64 KiB chunks as fast as the client takes them, until it hangs up.
    const chunk = Buffer.alloc(64 << 10, 7);
    const pump = () => {
      while (!res.destroyed) {
        state.layerBytesSent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
    } else if (url.startsWith('/v2/evil/manifests/')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': sha(manifest),
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
    } else if (url === `/v2/evil/blobs/${sha(config)}`) {
      res.writeHead(200, { 'content-length': config.length }).end(config);
    } else if (url === `/v2/evil/blobs/${sha(layer)}`) serveLayer(res);
    else res.writeHead(404).end('{"errors":[{"code":"NOT_FOUND","message":"not here"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

describe('a hostile registry', () => {
  let work = '';
  let registry: Hostile;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'tbuild-hostile-'));
    registry = await startHostileRegistry();
  });
  after(async () => {
    await registry?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const storeTemps = async (root: string) => readdir(join(root, 'image', 'tmp')).catch(() => []);

  it('a layer that streams without end: reading stops at the declared size, nothing is kept', async () => {
    registry.mode = 'endless';
    registry.layerBytesSent = 0;
    const root = join(work, 'endless');
    const started = Date.now();
    const r = await tbuild(root, ['pull', `${registry.host}/evil:1`]);
    const elapsed = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: pull blob [a-f0-9]{12}: size mismatch: more than the declared \d+ bytes \(stopped reading\)\n$/,
    );
    // What the server managed to push into socket buffers before tbuild hung up: bounded, not the
    // 1.25 GiB the issue saw. (Kernel socket buffers hold a few MB at most.)
    assert.ok(registry.layerBytesSent < 32 << 20, `server sent ${registry.layerBytesSent} bytes`);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    assert.deepEqual(await storeTemps(root), []);
    const images = await tbuild(root, ['images', '-q']);
    assert.equal(images.stdout, '');
  });

  it('a body that stalls: one line naming the timeout, after the retries, nothing kept', async () => {
    registry.mode = 'stall-body';
    registry.layerRequests = 0;
    const root = join(work, 'stall');
    const r = await tbuild(root, ['pull', `${registry.host}/evil:1`], {
      env: { TBUILD_REGISTRY_TIMEOUT: '300ms' },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: pull blob [a-f0-9]{12}: timeout: no data for 300 ms \(the registry stalled\)\n$/,
    );
    assert.equal(registry.layerRequests, 5, 'the first attempt and four retries');
    assert.deepEqual(await storeTemps(root), []);
  });

  it('an answer that never comes is timed out and retried; the retry completes the pull', async () => {
    registry.mode = 'stall-headers-once';
    registry.layerRequests = 0;
    const root = join(work, 'headers');
    const r = await tbuild(root, ['pull', `${registry.host}/evil:1`], {
      env: { TBUILD_REGISTRY_TIMEOUT: '500ms' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(registry.layerRequests, 2);
    const images = await tbuild(root, ['images']);
    assert.match(images.stdout, /^127\.0\.0\.1:\d+\/evil +1 /m);
  });

  it('a registry that never answers at all: the connect limit ends the pull in one line', async () => {
    // A listening socket that accepts and says nothing: even the manifest request stalls.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const r = await tbuild(join(work, 'silent'), ['pull', `${host}/evil:1`], {
        env: { TBUILD_REGISTRY_TIMEOUT: '200ms' },
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /^ERROR: 127\.0\.0\.1:\d+: pull manifest 127\.0\.0\.1:\d+\/evil:1: timeout: no answer within 200 ms \(connect timeout\)\n$/,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
