#!/usr/bin/env node
// Entry point for `npx tbuild`. It runs dist/tbuild.cjs (made by `npm run bundle`, which
// `npm ci` runs through `prepare`) with a code cache (run-bundle.js) while that bundle is newer
// than every file it was made from (bundle-inputs.js); otherwise it runs the TypeScript sources through tsx, so an edited
// checkout never runs stale code.
// A CommonJS script (bin/package.json): an ES module entry costs ~5-7 ms more of every command's
// start-up for the ES module loader, and the bundle it runs is a classic script anyway.
const { join } = require('node:path');
const { bundleIsFresh } = require('./bundle-inputs.js');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'tbuild.cjs');

if (bundleIsFresh(root, bundle)) {
  // One code cache per command word of cli/main.ts (a build compiles much more than `images`),
  // made by the command's first run and kept while V8 accepts it: a command sharing another's
  // cache would, run first, leave it holding only its own functions for good. The short form
  // `tbuild -t name .` is a build; a group's command (`image ls`) has one named by both words.
  // test/cli/shipped.test.ts checks that every command of `tbuild --help` is here.
  const commands = [
    ...['build', 'run', 'images', 'inspect', 'history', 'load', 'save', 'import', 'tag', 'rmi'],
    ...['pull', 'push', 'login', 'logout', 'prune', 'du', 'fsck', 'parse', 'version'],
    ...['create', 'start', 'ps', 'logs', 'stop', 'kill', 'wait', 'rm', 'container-cleanup'],
    ...['exec', 'cp', 'top', 'pause', 'unpause', 'rename', 'restart', 'commit', 'export'],
    ...['attach', 'diff', 'stats', 'port', 'port-forwarder'],
  ];
  const groups = ['image', 'container', 'builder', 'system', 'network', 'volume'];
  const { runBundle } = require('./run-bundle.js');
  const args = process.argv.slice(2);
  const at = args.findIndex((arg) => commands.includes(arg) || groups.includes(arg));
  const word = args[at];
  const sub = args[at + 1];
  const command = groups.includes(word) && /^[a-z]+$/.test(sub ?? '') ? `${word}-${sub}` : word;
  // Help has one cache of its own: `build --help` as the first build-word run would otherwise leave
  // the build's cache holding only what printing the help compiled. `-h` is run's and create's
  // --hostname. (A `--help` meant for a container's command picks it too: a slower start only.)
  const help =
    args.length === 0 ||
    args[0] === 'help' ||
    args.includes('--help') ||
    (args.includes('-h') && command !== 'run' && command !== 'create');
  const version = args.includes('--version') || args.includes('-v');
  runBundle(bundle, help ? 'help' : (command ?? (version ? 'version' : 'build')));
} else {
  // The sources are ES modules: loaded through tsx's ESM hooks.
  import('tsx/esm/api')
    .then(({ register }) => {
      register();
      return import('../cli/main.ts');
    })
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
