// The shipped entry point is the tested one (issue 11): every command through bin/tbuild.js, as a
// user runs it (`npx tbuild`), with a bundle made fresh by before() and checked to be what ran,
// push and pull against Debian's docker-registry on 127.0.0.1, login and logout against one behind
// htpasswd basic auth. Each command's output is asserted, not just its exit code. The tests run in
// order and share one store: they are one user's session.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { whyNotRunnable } from '../build/helpers.ts';
import { firstReason, needCommands, skipReason } from '../needs.ts';
import { busyboxArchive, startRegistry, type TestRegistry, whyNoRegistry } from '../registry/helpers.ts';
import { runTbuild, tbuildArgv } from '../tbuild-entry.ts';

const repo = resolve(import.meta.dirname, '../..');
const { newestInput } = createRequire(import.meta.url)('../../bin/bundle-inputs.js') as {
  newestInput(root: string, bundle: string): number;
};
const dist = join(repo, 'dist');
const bundle = join(dist, 'tbuild.cjs');
const skip = skipReason(
  firstReason(whyNotRunnable(), whyNoRegistry(), needCommands('htpasswd:apache2-utils')),
);

let work = '';
let root = '';
let registry: TestRegistry | undefined;
let privateRegistry: TestRegistry | undefined;
/** `.tbuild.cjs.<size>-<mtime>.`: the code caches bin/run-bundle.js writes for this bundle. */
let stamp = '';

/** The newest mtime of what bin/tbuild.js compares the bundle with (bin/bundle-inputs.js). */
function newestSource(): number {
  return newestInput(repo, bundle);
}

/** The code caches of this bundle: the command words that ran through bin/run-bundle.js. */
function cachedCommands(): string[] {
  return readdirSync(dist)
    .filter((name) => name.startsWith(stamp) && name.endsWith('.v8cache'))
    .map((name) => name.slice(stamp.length, -'.v8cache'.length))
    .sort();
}

before(async () => {
  if (skip) return;
  // `npm run bundle`, as `npm ci` does: dist/tbuild.cjs, newer than every source, so bin/tbuild.js runs it.
  const made = spawnSync(process.execPath, [join(repo, 'scripts/bundle.mjs')], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  const { size, mtimeMs } = statSync(bundle);
  assert.ok(mtimeMs >= newestSource(), 'the fresh bundle is newer than every source');
  stamp = `.tbuild.cjs.${size}-${Math.trunc(mtimeMs)}.`;
  // Caches of this bundle left by an earlier run would hide a run that did not go through it.
  for (const name of readdirSync(dist)) if (name.startsWith(stamp)) rmSync(join(dist, name));
  work = await mkdtemp(join(tmpdir(), 'tbuild-shipped-'));
  root = join(work, 'root');
  [registry, privateRegistry] = await Promise.all([
    startRegistry(join(work, 'registry')),
    startRegistry(join(work, 'private'), { kind: 'htpasswd', users: { alice: 's3cret' } }),
  ]);
});
after(async () => {
  // A failed test can leave a container running: removed as a user would, so no mount is left.
  if (work && !skip) {
    const left = (await tbuild(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
    if (left.length > 0) await tbuild(['rm', '-f', ...left]);
  }
  await registry?.stop();
  await privateRegistry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/tbuild.js ARGS` with its own Docker config; `store` is the --root (default: the shared one). */
function tbuild(args: string[], options: { stdin?: string; store?: string } = {}): Promise<Result> {
  return runTbuild(['--root', options.store ?? root, ...args], {
    cwd: work,
    env: { DOCKER_CONFIG: join(work, 'docker-config') },
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  });
}

/** `tbuild ARGS` that must exit 0 and must have run through the bundle; returns its output. */
async function ok(args: string[], options: Parameters<typeof tbuild>[1] = {}): Promise<Result> {
  const r = await tbuild(args, options);
  assert.equal(r.code, 0, `tbuild ${args.join(' ')}:\n${r.stderr}${r.stdout}`);
  return r;
}

/** The image ID `inspect` reports for `ref`. */
async function imageId(ref: string, store?: string): Promise<string> {
  const inspected = JSON.parse((await ok(['inspect', ref], { store })).stdout) as { Id: string }[];
  assert.equal(inspected.length, 1);
  return inspected[0]?.Id as string;
}

const ctx = () => join(work, 'ctx');
const dockerfile =
  'FROM busybox\nCOPY hello.txt /hello.txt\nRUN echo built > /built.txt\nWORKDIR /w\nCMD ["cat", "/hello.txt"]\n';
let appId = '';

test("a command's --help goes to the help code cache, leaving the command's own to its first real run", {
  skip,
}, async () => {
  assert.match((await ok(['build', '--help'])).stdout, /^Usage: {2}tbuild build \[OPTIONS\] PATH/);
  assert.deepEqual(cachedCommands(), ['help']);
});

test('parse prints the Dockerfile in BuildKit dump format', { skip }, async () => {
  mkdirSync(ctx());
  writeFileSync(join(ctx(), 'Dockerfile'), dockerfile);
  writeFileSync(join(ctx(), 'hello.txt'), 'hello from the shipped CLI\n');
  const r = await ok(['parse', '-f', join(ctx(), 'Dockerfile'), '--dump']);
  assert.equal(
    r.stdout,
    '(from "busybox")\n(copy "hello.txt" "/hello.txt")\n(run "echo built > /built.txt")\n(workdir "/w")\n(cmd "cat" "/hello.txt")\n',
  );
});

test('a reader that closes the pipe early ends nothing badly: no EPIPE stack, the exit code kept', {
  skip,
}, async () => {
  // `tbuild parse --dump | head -c 1` with a long Dockerfile: the reader goes after one byte.
  const long = join(work, 'long.Dockerfile');
  writeFileSync(long, `FROM busybox\n${'RUN echo a line of a long Dockerfile\n'.repeat(20_000)}`);
  const child = spawn(process.execPath, tbuildArgv(['--root', root, 'parse', '-f', long, '--dump']), {
    cwd: work,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise((resolvePromise) => child.once('close', resolvePromise));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('--version and load of the busybox base image', { skip }, async () => {
  assert.match((await ok(['--version'])).stdout, /^tbuild version \d+\.\d+\.\d+\n$/);
  const r = await ok(['load', '-i', await busyboxArchive()]);
  assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
});

test('build runs each step, names the image; a rebuild is all cached', { skip }, async () => {
  const first = await ok(['build', '--progress', 'plain', '-t', 'app', ctx()]);
  assert.match(first.stderr, /\[2\/4\] COPY hello\.txt \/hello\.txt\n#\d+ DONE/);
  assert.match(first.stderr, /\[3\/4\] RUN echo built > \/built\.txt\n#\d+ DONE/);
  const written = /writing image (sha256:[0-9a-f]{64})\n/.exec(first.stderr);
  assert.ok(written, first.stderr);
  appId = written[1] as string;
  assert.match(first.stderr, /naming to docker\.io\/library\/app:latest\n/);
  // The short form `tbuild -t NAME DIR` is a build.
  const again = await ok(['-t', 'app', '--progress', 'plain', ctx()]);
  assert.match(again.stderr, /\[3\/4\] RUN echo built > \/built\.txt\n#\d+ CACHED/);
  assert.match(again.stderr, new RegExp(`writing image ${appId}\\n`));
});

test("run prints what the image's CMD prints, and a given command's output", { skip }, async () => {
  assert.equal((await ok(['run', '--rm', 'app'])).stdout, 'hello from the shipped CLI\n');
  assert.equal((await ok(['run', '--rm', 'app', 'sh', '-c', 'cat /built.txt; pwd'])).stdout, 'built\n/w\n');
});

test('images, tag, inspect and history show the built image', { skip }, async () => {
  assert.equal(await imageId('app'), appId);
  assert.equal((await ok(['tag', 'app', 'app:v2'])).stdout, '');
  const images = (await ok(['images'])).stdout.split('\n');
  assert.match(images[0] as string, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$/);
  const short = appId.slice(7, 19);
  assert.ok(
    images.some((line) => new RegExp(`^app +latest +${short} `).test(line)),
    images.join('\n'),
  );
  assert.ok(
    images.some((line) => new RegExp(`^app +v2 +${short} `).test(line)),
    images.join('\n'),
  );
  assert.ok(
    images.some((line) => /^busybox +latest +[0-9a-f]{12} /.test(line)),
    images.join('\n'),
  );
  const [inspected] = JSON.parse((await ok(['inspect', 'app:v2'])).stdout);
  assert.deepEqual(inspected.RepoTags.sort(), ['app:latest', 'app:v2']);
  assert.deepEqual(inspected.Config.Cmd, ['cat', '/hello.txt']);
  assert.equal(inspected.Config.WorkingDir, '/w');
  assert.equal(inspected.RootFS.Layers.length, 4);
  const history = (await ok(['history', '--no-trunc', 'app'])).stdout;
  const steps = history
    .split('\n')
    .slice(1, 5)
    .map((line) => line.split(/ {3,}/)[2]);
  assert.deepEqual(steps, [
    'CMD ["cat" "/hello.txt"]',
    'WORKDIR /w',
    'RUN /bin/sh -c echo built > /built.txt # buildkit',
    'COPY hello.txt /hello.txt # buildkit',
  ]);
  assert.ok(history.startsWith(`IMAGE `) && history.split('\n')[1]?.startsWith(appId), history);
});

test('save then load round-trips the image into an empty store; rmi untags', { skip }, async () => {
  const archive = join(work, 'app.tar');
  assert.equal((await ok(['save', '-o', archive, 'app:v2'])).stdout, '');
  assert.equal((await ok(['rmi', 'app:v2'])).stdout, 'Untagged: app:v2\n');
  assert.doesNotMatch((await ok(['images'])).stdout, /^app +v2 /m);
  const other = join(work, 'root-load');
  assert.equal((await ok(['load', '-i', archive], { store: other })).stdout, 'Loaded image: app:v2\n');
  assert.equal(await imageId('app:v2', other), appId);
  assert.equal(
    (await ok(['run', '--rm', 'app:v2'], { store: other })).stdout,
    'hello from the shipped CLI\n',
  );
});

test('import makes an image of a tarball of files that then runs', { skip }, async () => {
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(tree, 'bin', 'busybox'));
  writeFileSync(join(tree, 'data.txt'), 'imported data\n');
  const archive = join(work, 'tree.tar');
  const tar = spawnSync('tar', ['-C', tree, '-cf', archive, '.'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const r = await ok(['import', archive, 'imported:1']);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(await imageId('imported:1'), r.stdout.trim());
  const out = await ok(['run', '--rm', 'imported:1', '/bin/busybox', 'cat', '/data.txt']);
  assert.equal(out.stdout, 'imported data\n');
  const removed = await ok(['rmi', 'imported:1']);
  assert.match(removed.stdout, new RegExp(`^Untagged: imported:1\\nDeleted: ${r.stdout.trim()}\\n`));
});

test('push to a registry, pull into an empty store: the same image ID, and it runs', { skip }, async () => {
  const name = `${registry?.host}/ship/app:1`;
  await ok(['tag', 'app', name]);
  const pushed = await ok(['push', name]);
  const digest = /^1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(pushed.stdout);
  assert.ok(digest, pushed.stdout);
  assert.match(pushed.stdout, /^[0-9a-f]{12}: Pushed$/m);
  const other = join(work, 'root-pull');
  const pulled = await ok(['pull', name], { store: other });
  assert.match(pulled.stdout, new RegExp(`^Digest: ${digest[1]}$`, 'm'));
  assert.match(pulled.stdout, new RegExp(`^Status: Downloaded newer image for ${name}$`, 'm'));
  assert.equal(await imageId(name, other), appId);
  assert.equal((await ok(['run', '--rm', name], { store: other })).stdout, 'hello from the shipped CLI\n');
});

test('login lets a push through basic auth; logout takes it away again', { skip }, async () => {
  const host = privateRegistry?.host as string;
  const name = `${host}/ship/app:1`;
  await ok(['tag', 'app', name]);
  const login = await ok(['login', '-u', 'alice', '--password-stdin', host], { stdin: 's3cret\n' });
  assert.equal(login.stdout, 'Login Succeeded\n');
  assert.match((await ok(['push', name])).stdout, /^1: digest: sha256:[0-9a-f]{64} size: \d+$/m);
  assert.equal((await ok(['logout', host])).stdout, `Removing login credentials for ${host}\n`);
  const refused = await tbuild(['push', name]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /401 Unauthorized: authentication required\nhint: tbuild login 127\.0\.0\.1:\d+\n$/,
  );
});

test('create, start, wait, logs, ps and rm of a container running the CMD', { skip }, async () => {
  const created = await ok(['create', '--name', 'ship1', 'app']);
  assert.match(created.stdout, /^[0-9a-f]{64}\n$/);
  const id = created.stdout.trim();
  assert.match(
    (await ok(['ps', '-a'])).stdout,
    new RegExp(`^${id.slice(0, 12)} +app +"cat /hello.txt" .* Created +ship1$`, 'm'),
  );
  assert.equal((await ok(['start', 'ship1'])).stdout, 'ship1\n');
  assert.equal((await ok(['wait', 'ship1'])).stdout, '0\n');
  assert.equal((await ok(['logs', 'ship1'])).stdout, 'hello from the shipped CLI\n');
  assert.match((await ok(['ps', '-a'])).stdout, /Exited \(0\) .* ship1$/m);
  assert.doesNotMatch((await ok(['ps'])).stdout, /ship1/);
  assert.equal((await ok(['rm', 'ship1'])).stdout, 'ship1\n');
  assert.doesNotMatch((await ok(['ps', '-a'])).stdout, /ship1/);
});

test('stop and kill end running containers; wait reports 137', { skip }, async () => {
  for (const name of ['ship2', 'ship3']) {
    await ok(['create', '--name', name, 'app', 'sleep', '100']);
    assert.equal((await ok(['start', name])).stdout, `${name}\n`);
  }
  const running = (await ok(['ps'])).stdout;
  assert.match(running, /"sleep 100" .* Up .* ship2$/m);
  assert.match(running, /"sleep 100" .* Up .* ship3$/m);
  // sleep as PID 1 has no SIGTERM handler: stop kills it after the timeout.
  assert.equal((await ok(['stop', '-t', '1', 'ship2'])).stdout, 'ship2\n');
  assert.equal((await ok(['kill', 'ship3'])).stdout, 'ship3\n');
  assert.equal((await ok(['wait', 'ship2', 'ship3'])).stdout, '137\n137\n');
  assert.match((await ok(['ps', '-a'])).stdout, /Exited \(137\) .* ship3$/m);
  assert.equal((await ok(['rm', 'ship2', 'ship3'])).stdout, 'ship2\nship3\n');
});

test('exec, cp, top, pause, unpause, rename, restart, commit and export of a running container', {
  skip,
}, async () => {
  await ok(['run', '-d', '--name', 'ship5', 'app', 'sleep', '100']);
  assert.equal(
    (await ok(['exec', 'ship5', 'sh', '-c', 'echo inside > /made; cat /hello.txt'])).stdout,
    'hello from the shipped CLI\n',
  );
  const copied = join(work, 'copied.txt');
  await ok(['cp', 'ship5:/made', copied]);
  assert.equal(readFileSync(copied, 'utf8'), 'inside\n');
  writeFileSync(join(work, 'into.txt'), 'from the host\n');
  await ok(['cp', join(work, 'into.txt'), 'ship5:/into.txt']);
  assert.equal((await ok(['exec', 'ship5', 'cat', '/into.txt'])).stdout, 'from the host\n');
  assert.match((await ok(['top', 'ship5'])).stdout, /sleep 100/);
  await ok(['pause', 'ship5']);
  assert.match((await ok(['ps'])).stdout, /\(Paused\) .* ship5$/m);
  await ok(['unpause', 'ship5']);
  await ok(['rename', 'ship5', 'ship6']);
  assert.match((await ok(['ps'])).stdout, / ship6$/m);
  await ok(['restart', '-t', '1', 'ship6']);
  // The writable layer survives a restart; commit packs it into a new image.
  assert.equal((await ok(['exec', 'ship6', 'cat', '/made'])).stdout, 'inside\n');
  const committed = await ok(['commit', 'ship6', 'shipped:committed']);
  assert.match(committed.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(
    (await ok(['run', '--rm', 'shipped:committed', 'cat', '/made', '/into.txt'])).stdout,
    'inside\nfrom the host\n',
  );
  const exported = join(work, 'ship6.tar');
  await ok(['export', '-o', exported, 'ship6']);
  const listing = spawnSync('tar', ['-tf', exported], { encoding: 'utf8' }).stdout.split('\n');
  assert.ok(listing.includes('made') && listing.includes('hello.txt'), listing.slice(0, 20).join(' '));
  await ok(['rm', '-f', 'ship6']);
  await ok(['rmi', 'shipped:committed']);
});

test('a foreground run is kept; diff, attach with its detach keys, stats, port and container prune', {
  skip,
}, async () => {
  const run = await tbuild(['run', '--name', 'ship7', 'app', 'sh', '-c', 'echo kept > /kept; exit 3']);
  assert.deepEqual([run.code, run.stdout, run.stderr], [3, '', '']);
  assert.match(
    (await ok(['ps', '-a', '--filter', 'name=ship7', '--format', '{{.Status}}'])).stdout,
    /^Exited \(3\) /,
  );
  assert.equal((await ok(['diff', 'ship7'])).stdout, 'A /kept\n');
  await ok(['run', '-d', '-i', '--name', 'ship8', 'app', 'sh', '-c', 'while read l; do echo "got $l"; done']);
  const attached = await tbuild(['attach', 'ship8'], { stdin: 'one\n\x10\x11' });
  assert.deepEqual([attached.code, attached.stderr], [1, 'read escape sequence\n']);
  const stats = await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'ship8']);
  assert.match(stats.stdout, /^ship8 [1-9]\d*\n$/);
  assert.equal((await ok(['port', 'ship8'])).stdout, '');
  await ok(['rm', '-f', 'ship8']);
  const kept = (await ok(['ps', '-aq', '--no-trunc', '--filter', 'name=ship7'])).stdout.trim();
  const pruned = await ok(['container', 'prune', '-f']);
  assert.equal(pruned.stdout, `Deleted Containers:\n${kept}\n\nTotal reclaimed space: 5B\n`);
});

test('du counts the images, fsck finds the store whole, prune -a empties the build cache', {
  skip,
}, async () => {
  const images = (await ok(['images', '-q'])).stdout.trim().split('\n');
  const du = (await ok(['du'])).stdout;
  assert.match(du, new RegExp(`^Images +${images.length} `, 'm'));
  assert.match(du, /^Build Cache +[1-9]\d* /m);
  const fsck = await ok(['fsck']);
  assert.match(fsck.stdout, /^checked \d+ blobs, \d+ images in .*\nok\n$/);
  assert.match((await ok(['prune', '-f'])).stdout, /^Total:\t/m);
  const pruned = await ok(['prune', '-a', '-f']);
  assert.match(pruned.stdout, /^Deleted build cache objects:\n([0-9a-z]+\n)+\nTotal:\t\d/);
  assert.match((await ok(['du'])).stdout, /^Build Cache +0 +0 +0B/m);
  assert.match((await ok(['fsck'])).stdout, /\nok\n$/);
});

test('the management groups run their commands: image ls, container ls, system df, builder prune', {
  skip,
}, async () => {
  await ok(['create', '--name', 'ship4', 'app']);
  assert.equal((await ok(['image', 'ls', '-q'])).stdout, (await ok(['images', '-q'])).stdout);
  const containers = (await ok(['container', 'ls', '-a', '-q'])).stdout;
  assert.match(containers, /^[0-9a-f]{12}\n$/);
  assert.equal(containers, (await ok(['ps', '-a', '-q'])).stdout);
  assert.equal((await ok(['container', 'rm', 'ship4'])).stdout, 'ship4\n');
  assert.equal((await ok(['system', 'df'])).stdout, (await ok(['du'])).stdout);
  assert.match((await ok(['builder', 'prune', '-f'])).stdout, /^Total:\t0B\n$/);
});

test('the network commands: create, ls, inspect, connect and disconnect a created container, rm, prune', {
  skip,
}, async () => {
  const id = (await ok(['network', 'create', '--subnet', '10.77.0.0/24', 'shipnet'])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(
    (await ok(['network', 'ls'])).stdout,
    new RegExp(`^${id.slice(0, 12)} +shipnet +bridge +local$`, 'm'),
  );
  assert.equal(
    (await ok(['network', 'inspect', '-f', '{{.IPAM.Config}}', 'shipnet'])).stdout,
    '[map[Gateway:10.77.0.1 Subnet:10.77.0.0/24]]\n',
  );
  await ok(['create', '--name', 'ship7', '--network', 'shipnet', 'app']);
  await ok(['network', 'connect', 'bridge', 'ship7']);
  assert.equal((await ok(['port', 'ship7'])).stdout, '');
  await ok(['network', 'disconnect', 'bridge', 'ship7']);
  await ok(['rm', 'ship7']);
  await ok(['network', 'rm', 'shipnet']);
  await ok(['network', 'create', 'shipnet2']);
  assert.equal((await ok(['network', 'prune', '-f'])).stdout, 'Deleted Networks:\nshipnet2\n\n');
});

test('the volume commands: create, ls, inspect, rm, prune', { skip }, async () => {
  assert.equal((await ok(['volume', 'create', 'shipvol'])).stdout, 'shipvol\n');
  assert.match((await ok(['volume', 'ls'])).stdout, /^local +shipvol$/m);
  assert.equal((await ok(['volume', 'inspect', '-f', '{{.Driver}}', 'shipvol'])).stdout, 'local\n');
  assert.equal((await ok(['volume', 'rm', 'shipvol'])).stdout, 'shipvol\n');
  await ok(['volume', 'create', 'shipvol2']);
  assert.match((await ok(['volume', 'prune', '-af'])).stdout, /^Deleted Volumes:\nshipvol2\n/);
});

test('every command of `tbuild --help` ran through the fresh bundle, and has its own code cache', {
  skip,
}, async () => {
  const help = (await ok(['--help'])).stdout;
  const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1] as string);
  const ran = cachedCommands();
  // bin/run-bundle.js wrote a code cache for each command word: they ran the bundle, not the sources.
  const tested = ['build', 'run', 'images', 'tag', 'rmi', 'inspect', 'history', 'save', 'load', 'import'];
  tested.push('pull', 'push', 'login', 'logout', 'prune', 'du', 'fsck', 'parse', 'version', 'help');
  tested.push('create', 'start', 'ps', 'logs', 'stop', 'kill', 'wait', 'rm', 'container-cleanup');
  tested.push('exec', 'cp', 'top', 'pause', 'unpause', 'rename', 'restart', 'commit', 'export');
  tested.push('attach', 'diff', 'stats', 'port');
  tested.push('image-ls', 'container-ls', 'container-rm', 'system-df', 'builder-prune', 'container-prune');
  tested.push('network-create', 'network-ls', 'network-inspect', 'network-connect', 'network-disconnect');
  tested.push('network-rm', 'network-prune');
  tested.push('volume-create', 'volume-ls', 'volume-inspect', 'volume-rm', 'volume-prune');
  for (const command of tested) assert.ok(ran.includes(command), `${command} ran through the bundle: ${ran}`);
  // Every command this CLI has is tested here (the management groups are aliases of them).
  const groups = ['builder', 'container', 'image', 'network', 'system', 'volume'];
  assert.deepEqual(
    listed.filter((word) => !tested.includes(word)),
    groups,
    'a new command or group is run here and has a code cache of its own in bin/tbuild.js',
  );
  assert.deepEqual(
    listed.filter((word) => !groups.includes(word)).sort(),
    tested.filter((word) => !/^(version|help|container-cleanup|[a-z]+-[a-z]+)$/.test(word)).sort(),
  );
  // And no source changed while the tests ran, so bin/tbuild.js chose the bundle every time.
  assert.ok(statSync(bundle).mtimeMs >= newestSource());
});
