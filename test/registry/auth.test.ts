// Authentication: htpasswd basic auth and bearer tokens from a token server of our own, in front of
// docker-registry on 127.0.0.1; login/logout write the Docker config; wrong credentials fail clearly.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { needCommands, skipReason } from '../needs.ts';
import {
  busyboxArchive,
  skopeo,
  startRegistry,
  startTokenServer,
  type TestRegistry,
  type TokenServer,
  tbuild,
  tbuildOk,
  whyNoRegistry,
} from './helpers.ts';

const skip = skipReason(whyNoRegistry());
let work = '';
let root = '';

before(async () => {
  if (skip) return;
  work = await mkdtemp(join(tmpdir(), 'tbuild-registry-auth-'));
  root = join(work, 'root');
  await tbuildOk(root, ['load', '-i', await busyboxArchive()]);
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const noHtpasswd = skipReason(needCommands('htpasswd:apache2-utils'));

describe('htpasswd basic auth', { skip: skip || noHtpasswd }, () => {
  let registry: TestRegistry;
  let dockerConfig = '';
  before(async () => {
    registry = await startRegistry(join(work, 'basic'), { kind: 'htpasswd', users: { alice: 's3cret' } });
    dockerConfig = join(work, 'docker-basic');
  });
  after(async () => registry?.stop());

  it('without credentials: 401, authentication required, with a login hint', async () => {
    await tbuildOk(root, ['tag', 'busybox', `${registry.host}/private:1`]);
    const r = await tbuild(root, ['push', `${registry.host}/private:1`], { dockerConfig });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: push blob [a-f0-9]{12} \(check\): 401 Unauthorized: authentication required\nhint: tbuild login 127\.0\.0\.1:\d+\n$/,
    );
  });

  it('login with a wrong password fails clearly and stores nothing', async () => {
    const r = await tbuild(root, ['login', '-u', 'alice', '--password-stdin', registry.host], {
      dockerConfig,
      stdin: 'wrong\n',
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: ping: 401 Unauthorized: authentication failed \(wrong username or password\?\)\n/,
    );
    await assert.rejects(readFile(join(dockerConfig, 'config.json')), { code: 'ENOENT' });
  });

  it('login stores base64 user:pass; push and pull then work; skopeo reads with the same creds', async () => {
    const r = await tbuild(root, ['login', '-u', 'alice', '--password-stdin', registry.host], {
      dockerConfig,
      stdin: 's3cret\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Login Succeeded\n');
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
    assert.equal(config.auths[registry.host].auth, Buffer.from('alice:s3cret').toString('base64'));
    await tbuildOk(root, ['push', `${registry.host}/private:1`], { dockerConfig });
    const inspect = JSON.parse(
      await skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        'alice:s3cret',
        `docker://${registry.host}/private:1`,
      ]),
    );
    assert.equal(inspect.Name, `${registry.host}/private`);
    const other = join(work, 'basic-other');
    const pulled = await tbuildOk(other, ['pull', `${registry.host}/private:1`], { dockerConfig });
    assert.match(pulled, /Pull complete/);
  });

  it('logout removes the entry; the next pull is refused', async () => {
    const r = await tbuildOk(root, ['logout', registry.host], { dockerConfig });
    assert.equal(r, `Removing login credentials for ${registry.host}\n`);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
    assert.equal(config.auths[registry.host], undefined);
    const denied = await tbuild(join(work, 'basic-third'), ['pull', `${registry.host}/private:1`], {
      dockerConfig,
    });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /401 Unauthorized: authentication required/);
  });
});

describe('bearer tokens from a token server', { skip }, () => {
  let registry: TestRegistry;
  let tokens: TokenServer;
  let dockerConfig = '';
  before(async () => {
    tokens = await startTokenServer({ bob: 'hunter2', carol: 'reader' }, ['carol']);
    registry = await startRegistry(join(work, 'token'), {
      kind: 'token',
      realm: tokens.realm,
      service: tokens.service,
      issuer: tokens.issuer,
    });
    dockerConfig = join(work, 'docker-token');
  });
  after(async () => {
    await registry?.stop();
    await tokens?.close();
  });

  it('a wrong password is refused by the token server, in one line', async () => {
    const r = await tbuild(root, ['login', '-u', 'bob', '--password-stdin', registry.host], {
      dockerConfig,
      stdin: 'nope',
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: ping \(token from 127\.0\.0\.1:\d+\): 401 Unauthorized: authentication failed/,
    );
  });

  it('login, push, pull: tokens are asked for the repository scopes', async () => {
    await tbuildOk(root, ['login', '-u', 'bob', '--password-stdin', registry.host], {
      dockerConfig,
      stdin: 'hunter2',
    });
    await tbuildOk(root, ['tag', 'busybox', `${registry.host}/tok/app:1`]);
    tokens.requests.length = 0;
    const pushed = await tbuildOk(root, ['push', `${registry.host}/tok/app:1`], { dockerConfig });
    assert.match(pushed, /Pushed/);
    assert.ok(
      tokens.requests.some((r) => r.user === 'bob' && r.scopes.includes('repository:tok/app:pull,push')),
      JSON.stringify(tokens.requests),
    );
    const other = join(work, 'token-other');
    tokens.requests.length = 0;
    await tbuildOk(other, ['pull', `${registry.host}/tok/app:1`], { dockerConfig });
    assert.ok(tokens.requests.some((r) => r.scopes.includes('repository:tok/app:pull')));
    const inspect = JSON.parse(
      await skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        'bob:hunter2',
        `docker://${registry.host}/tok/app:1`,
      ]),
    );
    assert.equal(inspect.Name, `${registry.host}/tok/app`);
  });

  // distribution lists the actions of a scope in map order: pull,push or push,pull.
  it('a read-only user may pull but not push: access denied, in one line', async () => {
    const carol = join(work, 'docker-carol');
    await tbuildOk(root, ['login', '-u', 'carol', '--password-stdin', registry.host], {
      dockerConfig: carol,
      stdin: 'reader',
    });
    await tbuildOk(join(work, 'token-carol'), ['pull', `${registry.host}/tok/app:1`], {
      dockerConfig: carol,
    });
    await tbuildOk(root, ['tag', 'busybox', `${registry.host}/tok/carol:1`]);
    const r = await tbuild(root, ['push', `${registry.host}/tok/carol:1`], { dockerConfig: carol });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^ERROR: 127\.0\.0\.1:\d+: push blob [a-f0-9]{12} \([^)]+\): 401 Unauthorized: access denied \(insufficient scope for [^)\n]*repository:tok\/carol:(?:pull,push|push,pull)[^)\n]*\)\nhint: tbuild login [^\n]+\n$/,
    );
  });

  it('anonymous: the token grants nothing, and the error says so', async () => {
    const r = await tbuild(join(work, 'token-anon'), ['pull', `${registry.host}/tok/app:1`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pull manifest .*: 401 Unauthorized: authentication required\nhint: tbuild login/);
  });
});
