// The registry client's pure parts: WWW-Authenticate and Retry-After parsing, platform selection,
// loopback detection, and the Docker config file (auths) as login/logout read and write it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ImageIndex } from '../../image/index.ts';
import {
  connectRegistry,
  isLoopbackHost,
  parseChallenge,
  parsePlatform,
  parseRetryAfter,
  readCredentials,
  readInsecureRegistries,
  removeCredentials,
  saveCredentials,
  selectPlatform,
} from '../../registry/index.ts';

describe('WWW-Authenticate', () => {
  it('bearer with quoted parameters, escapes and a scope with spaces', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull repository:x:pull,push",error="in\\"sufficient"',
      ),
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/busybox:pull repository:x:pull,push',
          error: 'in"sufficient',
        },
      },
    );
  });
  it('basic, bare values, absent header', () => {
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    assert.deepEqual(parseChallenge('Bearer realm=http://x/t, service=s'), {
      scheme: 'bearer',
      params: { realm: 'http://x/t', service: 's' },
    });
    assert.equal(parseChallenge(null), undefined);
    assert.equal(parseChallenge(''), undefined);
  });
  it('Retry-After in seconds or as a date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe('platforms', () => {
  const d = (n: number) => `sha256:${String(n).repeat(64)}` as const;
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d(1),
        size: 1,
        platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d(2),
        size: 1,
        platform: { os: 'linux', architecture: 'arm64' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d(3),
        size: 1,
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: d(4),
        size: 1,
        platform: { os: 'windows', architecture: 'amd64' },
      },
    ],
  };
  it('selects by os/arch, variant when asked (arm64 means v8)', () => {
    assert.equal(selectPlatform(index, parsePlatform('linux/amd64'))?.digest, d(3));
    assert.equal(selectPlatform(index, parsePlatform('windows/amd64'))?.digest, d(4));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm64/v8'))?.digest, d(2));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm/v7'))?.digest, d(1));
    assert.equal(selectPlatform(index, parsePlatform('linux/arm/v6')), undefined);
    assert.equal(selectPlatform(index, parsePlatform('linux/s390x')), undefined);
  });
  it('rejects malformed platforms', () => {
    assert.throws(() => parsePlatform('linux'), /invalid platform "linux"/);
    assert.throws(() => parsePlatform('linux/arm/v7/x'), /invalid platform/);
  });
  it('loopback hosts are spoken to over http', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['docker.io', 'example.com:5000', '10.0.0.1:5000', 'localhost.example.com'])
      assert.equal(isLoopbackHost(h), false, h);
  });
});

describe('Docker config', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tbuild-registry-config-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads auths keyed by host, URL or Docker Hub legacy key; keeps other fields when writing', async () => {
    const path = join(dir, 'config.json');
    await writeFile(
      path,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw:with:colons').toString('base64') },
          'http://reg.example:5000': { auth: Buffer.from('u:p').toString('base64') },
        },
        credsStore: 'none',
      }),
    );
    assert.deepEqual(await readCredentials('docker.io', path), {
      username: 'hub',
      password: 'pw:with:colons',
    });
    assert.deepEqual(await readCredentials('reg.example:5000', path), { username: 'u', password: 'p' });
    assert.equal(await readCredentials('other.example', path), undefined);
    await saveCredentials('reg.example:5000', { username: 'v', password: 'q' }, path);
    const written = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(written.credsStore, 'none');
    assert.deepEqual(Object.keys(written.auths).sort(), ['https://index.docker.io/v1/', 'reg.example:5000']);
    assert.deepEqual(await readCredentials('reg.example:5000', path), { username: 'v', password: 'q' });
    assert.equal(await removeCredentials('docker.io', path), true);
    assert.equal(await removeCredentials('docker.io', path), false);
    assert.equal(await readCredentials('docker.io', path), undefined);
  });

  it('a missing file means no credentials; a broken one is a clear error', async () => {
    assert.equal(await readCredentials('x', join(dir, 'absent.json')), undefined);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{not json');
    await assert.rejects(readCredentials('x', broken), /^RegistryError: invalid .*broken\.json/);
  });

  it('http only for loopback, --insecure-registry and <root>/config.json hosts; Docker Hub by its API host', async () => {
    const root = join(dir, 'scheme-root');
    process.env.DOCKER_CONFIG = join(dir, 'no-docker-config'); // hermetic: no user credentials
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'config.json'), JSON.stringify({ 'insecure-registries': ['cfg.lan:5000'] }));
    const base = async (host: string, flags: string[] = []) =>
      (await connectRegistry(host, { root, insecureRegistries: flags })).base;
    assert.equal(await base('127.0.0.1:5000'), 'http://127.0.0.1:5000');
    assert.equal(await base('localhost:5000'), 'http://localhost:5000');
    assert.equal(await base('reg.lan:5000'), 'https://reg.lan:5000');
    assert.equal(await base('reg.lan:5000', ['reg.lan:5000']), 'http://reg.lan:5000');
    assert.equal(await base('cfg.lan:5000'), 'http://cfg.lan:5000');
    assert.equal(await base('docker.io'), 'https://registry-1.docker.io');
  });

  it('insecure registries from <root>/config.json', async () => {
    assert.deepEqual(await readInsecureRegistries(join(dir, 'no-root')), []);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ 'insecure-registries': ['reg.lan:5000'] }));
    assert.deepEqual(await readInsecureRegistries(dir), ['reg.lan:5000']);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ 'insecure-registries': 'reg.lan' }));
    await assert.rejects(readInsecureRegistries(dir), /must be a list of host names/);
  });
});
