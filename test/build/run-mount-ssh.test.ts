// `tbuild build --ssh` and `RUN --mount=type=ssh`: a step reaches the build's ssh agent (the
// caller's, or one tbuild runs with a key file's key) through a socket of its own, and so a git
// clone over ssh from a local sshd on 127.0.0.1 works only with the mount. The key itself never
// reaches a layer, the config, a cache record or the output. A git context over ssh uses the
// `default` agent too.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { needCommands, skipReason } from '../needs.ts';
import { runTbuild } from '../tbuild-entry.ts';
import { makeRepo } from './git-fixtures.ts';
import { setupBuildTests } from './helpers.ts';
import { makeKey, type SshServer, sshToolsContext, startSshd, type TestKey } from './ssh-fixtures.ts';

const h = setupBuildTests();
const skip =
  h.skip ||
  skipReason(needCommands('ssh-agent:openssh-client', 'ssh-keygen:openssh-client', 'git')) ||
  skipReason(existsSync('/usr/sbin/sshd') ? false : 'needs /usr/sbin/sshd (apt-get install openssh-server)');

interface Fixtures {
  key: TestKey;
  other: TestKey;
  repo: string;
  sshd: SshServer;
}
let made: Promise<Fixtures> | undefined;
// Made by the first test: node runs a file's `before` hooks side by side, and these need the root.
const fixtures = () => {
  made ??= (async () => {
    const dir = await h.testdir({});
    const key = await makeKey(join(dir, 'keys'));
    const other = await makeKey(join(dir, 'keys'), 'id_other');
    const repo = join(dir, 'served', 'repo.git');
    await makeRepo(repo, [
      { files: { 'hello.txt': 'hello over ssh\n', 'sub/Dockerfile': 'FROM busybox\nCOPY . /src/\n' } },
    ]);
    const sshd = await startSshd(join(dir, 'sshd'), [key.publicKey]);
    const tools = await h.cli(['build', '-q', '-t', 'sshtools', await sshToolsContext(await h.testdir({}))]);
    if (tools.code !== 0) throw new Error(`building the ssh tools image failed: ${tools.stderr}`);
    return { key, other, repo, sshd };
  })();
  return made;
};
after(async () => (await made?.catch(() => undefined))?.sshd.stop());

const it = (name: string, fn: (f: Fixtures) => Promise<void>) =>
  test(name, { skip }, async () => fn(await fixtures()));

function build(files: Record<string, string>, args: string[], env?: Record<string, string>) {
  return h
    .testdir(files)
    .then((dir) =>
      runTbuild(
        ['--root', h.root(), 'build', '--progress', 'plain', ...args, dir],
        env === undefined ? {} : { env },
      ),
    );
}

const sshCommand = 'ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR';

it('ssh-add -l in the step lists the key of --ssh default=KEY; the socket is owned and moded as asked', async ({
  key,
}) => {
  const result = await build(
    {
      Dockerfile: [
        'FROM sshtools',
        'RUN --mount=type=ssh ssh-add -l > /keys && echo "$SSH_AUTH_SOCK" > /sock',
        'RUN --mount=type=ssh,id=deploy,target=/tmp/agent.sock,mode=0660,uid=1000,gid=1001 stat -c "%a %u:%g %F" /tmp/agent.sock > /stat && SSH_AUTH_SOCK=/tmp/agent.sock ssh-add -l >> /stat',
        '',
      ].join('\n'),
    },
    ['-t', 'ssh-add', '--ssh', `default=${key.path}`, '--ssh', `deploy=${key.path}`],
  );
  assert.equal(result.code, 0, result.stderr);
  const image = await h.flatten('ssh-add');
  assert.match(
    await image.text('/keys'),
    new RegExp(`^256 ${quoteRegExp(key.fingerprint)} id_test@tbuild-test \\(ED25519\\)\n$`),
  );
  assert.equal(await image.text('/sock'), '/run/buildkit/ssh_agent.0\n');
  assert.match(
    await image.text('/stat'),
    new RegExp(`^660 1000:1001 socket\n256 ${quoteRegExp(key.fingerprint)} `),
  );
  // The sockets were mount points only.
  assert.equal(image.entries.has('/run/buildkit/ssh_agent.0'), false);
  assert.equal(image.entries.has('/tmp/agent.sock'), false);
});

it('a git clone over ssh from a local sshd works only with the mount', async ({ key, repo, sshd }) => {
  const clone = `GIT_SSH_COMMAND='${sshCommand}' git clone -q ssh://root@127.0.0.1:${sshd.port}${repo} /cloned`;
  const withMount = await build(
    { Dockerfile: `FROM sshtools\nRUN --mount=type=ssh ${clone} && cat /cloned/hello.txt > /got\n` },
    ['-t', 'ssh-clone', '--ssh', `default=${key.path}`],
  );
  assert.equal(withMount.code, 0, withMount.stderr);
  assert.equal(await (await h.flatten('ssh-clone')).text('/got'), 'hello over ssh\n');
  const without = await build({ Dockerfile: `FROM sshtools\nRUN ${clone}\n` }, [
    '--ssh',
    `default=${key.path}`,
  ]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /Permission denied \(publickey\)/);
  // An optional mount of an agent the build was not given is left out; a required one fails.
  const notGiven = await build({ Dockerfile: `FROM sshtools\nRUN --mount=type=ssh ${clone}\n` }, []);
  assert.equal(notGiven.code, 1);
  assert.match(notGiven.stderr, /Permission denied \(publickey\)/);
  const required = await build(
    { Dockerfile: `FROM sshtools\nRUN --mount=type=ssh,required=true ${clone}\n` },
    [],
  );
  assert.equal(required.code, 1);
  assert.match(required.stderr, /no SSH key "default" forwarded from the client/);
});

it('the agent of the caller ($SSH_AUTH_SOCK) is forwarded by --ssh default; the key is not in the cache key', async ({
  key,
  other,
}) => {
  // The caller's own agent, holding the other key, at a socket it made.
  const { spawn } = await import('node:child_process');
  const socket = join(await h.testdir({}), 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) =>
      execFile('ssh-add', ['-q', other.path], { env: { ...process.env, SSH_AUTH_SOCK: socket } }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    const dockerfile = { Dockerfile: 'FROM sshtools\nRUN --mount=type=ssh ssh-add -l > /keys\n' };
    const viaEnv = await build(dockerfile, ['-t', 'ssh-env', '--ssh', 'default'], { SSH_AUTH_SOCK: socket });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.match(
      await (await h.flatten('ssh-env')).text('/keys'),
      new RegExp(quoteRegExp(other.fingerprint)),
    );
    // Another agent with another key: the step is cached (BuildKit keys the mount, not the key).
    const again = await build(dockerfile, ['--ssh', `default=${key.path}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /RUN --mount=type=ssh ssh-add -l > \/keys\n#\d+ CACHED/);
    const unset = await build(dockerfile, ['--ssh', 'default'], { SSH_AUTH_SOCK: '' });
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /invalid empty ssh agent socket: make sure SSH_AUTH_SOCK is set/);
  } finally {
    agent.kill();
  }
});

it('a git context over ssh (scp-like address) fetches with the default agent', async ({
  key,
  repo,
  sshd,
}) => {
  const url = `root@127.0.0.1:${repo}#main:sub`;
  const env = { GIT_SSH_COMMAND: `${sshCommand} -p ${sshd.port}`, SSH_AUTH_SOCK: '' };
  const ok = await runTbuild(
    ['--root', h.root(), 'build', '-t', 'ssh-context', '--ssh', `default=${key.path}`, url],
    {
      env,
    },
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    await (await h.flatten('ssh-context')).text('/src/Dockerfile'),
    'FROM busybox\nCOPY . /src/\n',
  );
  const denied = await runTbuild(['--root', h.root(), 'build', url], { env });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /ERROR: failed to fetch root@127\.0\.0\.1:.*Permission denied \(publickey\)/);
});

it('no layer, config, cache record or output holds any of the key', async ({ key }) => {
  const result = await build(
    { Dockerfile: 'FROM sshtools\nRUN --mount=type=ssh ssh-add -l && ssh-add -L > /public-lines\n' },
    ['-t', 'ssh-scan', '--ssh', `default=${key.path}`],
  );
  assert.equal(result.code, 0, result.stderr);
  // The agent hands out public keys only: the step saw that, no more.
  assert.match(await (await h.flatten('ssh-scan')).text('/public-lines'), /^ssh-ed25519 /);
  const pem = await readFile(key.path, 'utf8');
  const needles = [
    key.seed,
    Buffer.from(key.seed.toString('hex')),
    Buffer.from(key.seed.toString('base64').slice(0, 40)),
    ...pem
      .split('\n')
      .filter((line) => line.length > 40 && !line.startsWith('-----'))
      .map((line) => Buffer.from(line)),
  ];
  const found: string[] = [];
  const scan = async (path: string) => {
    const info = await stat(path);
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await scan(join(path, name));
      return;
    }
    if (!info.isFile()) return;
    let bytes = await readFile(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    if (needles.some((needle) => bytes.includes(needle))) found.push(path);
  };
  await scan(h.root());
  const saved = join(await h.testdir({}), 'saved.tar');
  assert.equal((await h.cli(['save', '-o', saved, 'ssh-scan'])).code, 0);
  await scan(saved);
  assert.deepEqual(found, []);
  const output = Buffer.from(result.stdout + result.stderr);
  assert.equal(
    needles.some((needle) => output.includes(needle)),
    false,
  );
});

function quoteRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
