// Bad invocations of every command, as a user types them: each must exit with Docker's code
// (125 for flag errors, 1 for a wrong argument count or a failed command, 64 for a bad --format
// template), say why in one
// `ERROR:` line (a Docker-style `See 'tbuild CMD --help'.` may follow), print no stack trace, and
// leave the store fsck-clean. Runs through the shared harness's CLI (test/build/helpers.ts), so
// it follows whatever entry point the harness runs.
//
// Docker's "Error response from daemon: " before a daemon's error has no place in a daemonless
// tool: the reason after tbuild's `ERROR: ` is the daemon's own text (`No such container: x`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setupBuildTests } from '../build/helpers.ts';
import { firstReason, needCommands, needRoot, skipReason } from '../needs.ts';
import { tbuildArgv } from '../tbuild-entry.ts';

const h = setupBuildTests();

/** One bad invocation. `@NAME` in an argument is replaced by the fixture path NAME. */
interface Row {
  args: string[];
  code: number;
  /** What the first line of stderr must say (after `ERROR: ` or `Error: `). */
  reason: RegExp;
}

const usage = 125;
const failed = 1;
/** docker inspect's exit code for a --format that does not parse (docker-cli inspect/inspector.go). */
const badTemplate = 64;

/** The table, by command. */
const table: Record<string, Row[]> = {
  build: [
    { args: ['build', '--frobnicate', '@ctx'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['build', '-x', '@ctx'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
    { args: ['build'], code: failed, reason: /^"tbuild build" requires exactly 1 argument\.$/ },
    { args: ['build', '@ctx', '@ctx'], code: failed, reason: /requires exactly 1 argument/ },
    { args: ['build', '@ctx', '-t'], code: usage, reason: /^flag needs an argument: 't' in -t$/ },
    { args: ['build', '@ctx', '--file'], code: usage, reason: /^flag needs an argument: --file$/ },
    {
      args: ['build', '--no-cache=maybe', '@ctx'],
      code: usage,
      reason: /^invalid argument "maybe" for "--no-cache" flag/,
    },
    {
      args: ['build', '/no/such/ctx'],
      code: failed,
      reason: /^unable to prepare context: path "\/no\/such\/ctx" not found$/,
    },
    {
      args: ['build', '@file'],
      code: failed,
      reason: /^unable to prepare context: context must be a directory: .*\/file$/,
    },
    {
      args: ['build', '-f', '@dir', '@ctx'],
      code: failed,
      reason: /\/dir: is a directory; expected a Dockerfile \(-f\)$/,
    },
    {
      args: ['build', '-f', '/no/such/Dockerfile', '@ctx'],
      code: failed,
      reason: /^\/no\/such\/Dockerfile: no such file or directory; expected a Dockerfile/,
    },
    {
      args: ['build', '-f', '@file/Dockerfile', '@ctx'],
      code: failed,
      reason: /\/file\/Dockerfile: not a directory; expected a Dockerfile/,
    },
    {
      args: ['build', '@empty'],
      code: failed,
      reason: /^failed to read dockerfile: open .*\/Dockerfile: no such file or directory$/,
    },
    {
      args: ['build', '@ignoredir'],
      code: failed,
      reason: /\/\.dockerignore: is a directory; expected a file of ignore patterns$/,
    },
    {
      args: ['build', '-t', 'Bad:Tag', '@ctx'],
      code: usage,
      reason: /^invalid argument "Bad:Tag" for "-t, --tag" flag/,
    },
    {
      args: ['build', '--progress', 'fancy', '@ctx'],
      code: usage,
      reason: /^invalid progress mode "fancy"$/,
    },
    {
      args: ['build', '--network', 'bridge', '@ctx'],
      code: usage,
      reason: /^network mode "bridge" not supported/,
    },
    {
      args: ['build', '--platform', 'linux/s390x', '@ctx'],
      code: usage,
      reason: /^platform "linux\/s390x" is not supported/,
    },
    { args: ['build', '--build-arg', '=x', '@ctx'], code: usage, reason: /^invalid build-arg "=x"/ },
    {
      args: ['build', '--secret', 'id=s,src=/no/such/secret', '@ctx'],
      code: usage,
      reason: /^\/no\/such\/secret: no such file or directory; expected the file of secret s/,
    },
    {
      args: ['build', '--secret', 'src=/x', '@ctx'],
      code: usage,
      reason: /^invalid secret "src=\/x": id is required$/,
    },
    {
      args: ['build', '--cache-to', 'type=bogus', '@ctx'],
      code: usage,
      reason: /^unsupported --cache-to type "bogus"$/,
    },
    {
      args: ['build', '--cache-from', 'type=local', '@ctx'],
      code: usage,
      reason: /^--cache-from type=local needs src=DIR$/,
    },
    { args: ['build', '--push', '@ctx'], code: usage, reason: /^--push needs a name to push to/ },
    // -o/--output, in buildx's words (util/buildflags/export.go, build/opt.go CreateExports).
    { args: ['build', '-o', 'dest=out,type', '@ctx'], code: usage, reason: /^invalid value type$/ },
    { args: ['build', '-o', 'dest=x,name=y', '@ctx'], code: usage, reason: /^type is required for output$/ },
    {
      args: ['build', '-o', 'type=local', '@ctx'],
      code: usage,
      reason: /^dest is required for local exporter$/,
    },
    {
      args: ['build', '-o', 'type=local,dest=-', '@ctx'],
      code: usage,
      reason: /^dest cannot be stdout for local exporter$/,
    },
    {
      args: ['build', '-o', '@file', '@ctx'],
      code: usage,
      reason: /^destination directory \/.*\/file is a file$/,
    },
    {
      args: ['build', '-o', 'type=tar,dest=/tmp', '@ctx'],
      code: usage,
      reason: /^destination file \/tmp is a directory$/,
    },
    {
      args: ['build', '-o', 'type=tar', '-o', 'type=oci', '@ctx'],
      code: usage,
      reason: /^multiple outputs configured to write to stdout$/,
    },
    {
      args: ['build', '--push', '-t', 'x', '-o', 'type=local,dest=/tmp/tbuild-never-written', '@ctx'],
      code: usage,
      reason: /^push and "local" output can't be used together$/,
    },
    {
      args: ['build', '--push', '--load', '-t', 'x', '@ctx'],
      code: usage,
      reason: /^push and load may not be set together at the moment$/,
    },
    {
      args: ['build', '-o', 'type=registry', '@ctx'],
      code: usage,
      reason: /^tag is needed when pushing to registry$/,
    },
    {
      args: ['build', '-o', 'type=bogus', '@ctx'],
      code: usage,
      reason: /^exporter "bogus" could not be found$/,
    },
    {
      args: ['build', '-o', 'type=oci,tar=maybe,dest=/tmp/tbuild-never-written.tar', '@ctx'],
      code: usage,
      reason: /^non-bool value maybe specified for tar$/,
    },
    {
      args: [
        'build',
        '-o',
        'type=image,rewrite-timestamp=false',
        '-o',
        'type=docker,rewrite-timestamp=true',
        '@ctx',
      ],
      code: usage,
      reason: /^rewrite-timestamp differs between outputs/,
    },
    {
      args: ['build', '-o', 'type=image,"name=a', '@ctx'],
      code: usage,
      reason: /parse error on line 1, column \d+: extraneous or missing " in quoted-field$/,
    },
    {
      args: ['build', '--add-host', 'nocolon', '@ctx'],
      code: usage,
      reason: /^invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"$/,
    },
    {
      args: ['build', '--add-host', 'db:999.1.1.1', '@ctx'],
      code: usage,
      reason: /^invalid argument "db:999\.1\.1\.1" for "--add-host" flag: bad format/,
    },
    {
      args: ['build', '--shm-size', 'lots', '@ctx'],
      code: usage,
      reason: /^invalid argument "lots" for "--shm-size" flag: invalid size: 'lots'$/,
    },
    {
      args: ['build', '--ulimit', 'nofile', '@ctx'],
      code: usage,
      reason: /^invalid argument "nofile" for "--ulimit" flag: invalid ulimit argument: nofile$/,
    },
    {
      args: ['build', '--ulimit', 'files=10', '@ctx'],
      code: usage,
      reason: /^invalid argument "files=10" for "--ulimit" flag: invalid ulimit type: files$/,
    },
    {
      args: ['build', '--ulimit', 'nofile=20:10', '@ctx'],
      code: usage,
      reason: /soft limit must be less than or equal to hard limit: 20 > 10$/,
    },
    {
      args: ['build', '--ssh', 'default=/no/such/key', '@ctx'],
      code: failed,
      reason: /^--ssh default: \/no\/such\/key: no such file or directory$/,
    },
    {
      args: ['build', '-f', '-', '-'],
      code: failed,
      reason: /^invalid argument: can't use stdin for both build context and dockerfile$/,
    },
    {
      args: ['build', 'https://127.0.0.1:1/repo.git#-x'],
      code: failed,
      reason: /^invalid git ref "-x" for https:\/\/127\.0\.0\.1:1\/repo\.git: it must not start with "-"$/,
    },
    {
      args: ['build', '--iidfile', '/no/such/dir/iid', '@ctx'],
      code: failed,
      reason: /^\/no\/such\/dir: no such file or directory; expected an existing directory/,
    },
    {
      args: ['build', '--iidfile', '@dir', '@ctx'],
      code: failed,
      reason: /\/dir: is a directory; expected a file to write the image ID to/,
    },
    // A real ENOSPC: the build succeeds, writing the image ID to the full disk fails.
    {
      args: ['build', '--iidfile', '/dev/full', '@ctx'],
      code: failed,
      reason:
        /^\/dev\/full: no space left on device; expected a file to write the image ID to \(--iidfile\)$/,
    },
  ],
  'build (short form)': [
    { args: ['--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['-t', 'x', '/no/such/ctx'],
      code: failed,
      reason: /^unable to prepare context: path "\/no\/such\/ctx" not found$/,
    },
  ],
  'unknown commands': [
    { args: ['frob'], code: failed, reason: /^unknown command: tbuild frob$/ },
    { args: ['frob', 'x'], code: failed, reason: /^unknown command: tbuild frob$/ },
    { args: ['Images'], code: failed, reason: /^unknown command: tbuild Images$/ },
    { args: ['image', 'frob'], code: failed, reason: /^unknown command: tbuild image frob$/ },
    { args: ['container', 'frob'], code: failed, reason: /^unknown command: tbuild container frob$/ },
    { args: ['system', 'frob'], code: failed, reason: /^unknown command: tbuild system frob$/ },
    { args: ['builder', 'frob'], code: failed, reason: /^unknown command: tbuild builder frob$/ },
    { args: ['help', 'frob'], code: failed, reason: /^unknown help topic: frob$/ },
  ],
  'global flags': [
    {
      args: ['--root', '@file', 'images'],
      code: failed,
      reason: /\/file: not a directory; expected a directory for the store \(--root/,
    },
    {
      args: ['--root', '@file', 'build', '@ctx'],
      code: failed,
      reason: /\/file: not a directory; expected a directory for the store/,
    },
    { args: ['--root'], code: usage, reason: /^flag needs an argument: --root$/ },
    { args: ['version', 'extra'], code: failed, reason: /^"tbuild version" accepts no arguments\.$/ },
  ],
  create: [
    { args: ['create'], code: failed, reason: /^"tbuild create" requires at least 1 argument\.$/ },
    { args: ['container', 'create'], code: failed, reason: /^"tbuild create" requires at least 1 argument/ },
    { args: ['create', '--frobnicate', 'busybox'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['create', '-e'], code: usage, reason: /^flag needs an argument: 'e' in -e$/ },
    {
      args: ['create', '--stop-timeout', 'x', 'busybox'],
      code: usage,
      reason:
        /^invalid argument "x" for "--stop-timeout" flag: strconv\.ParseInt: parsing "x": invalid syntax$/,
    },
    {
      args: ['create', '--restart', 'bogus', 'busybox'],
      code: usage,
      reason: /^invalid restart policy format: bogus$/,
    },
    {
      args: ['create', '--restart', 'always:3', 'busybox'],
      code: usage,
      reason: /^invalid restart policy: maximum retry count cannot be used with restart policy 'always'$/,
    },
    {
      args: ['create', '--rm', '--restart', 'always', 'busybox'],
      code: usage,
      reason: /^Conflicting options: --restart and --rm$/,
    },
    {
      args: ['create', '--add-host', 'nocolon', 'busybox'],
      code: usage,
      reason: /^invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"$/,
    },
    {
      args: ['create', '-v', '/x:ro', 'busybox'],
      code: usage,
      reason: /^invalid volume specification: '\/x:ro'$/,
    },
    { args: ['create', '-v', 'v1:/x:bogus', 'busybox'], code: usage, reason: /^invalid mode: bogus$/ },
    { args: ['create', '-v', 'v1:x', 'busybox'], code: usage, reason: /mount path must be absolute$/ },
    { args: ['create', '-v', 'a/b:/x', 'busybox'], code: failed, reason: /includes invalid characters/ },
    {
      args: ['create', '--mount', 'type=bind,target=/x', 'busybox'],
      code: usage,
      reason: /for "--mount" flag: invalid mount config for type "bind": field Source must not be empty$/,
    },
    {
      args: ['create', '--mount', 'type=volume,src=v1', 'busybox'],
      code: usage,
      reason: /for "--mount" flag: target is required$/,
    },
    {
      args: ['create', '--mount', 'type=tmpfs,target=/t,volume-nocopy', 'busybox'],
      code: usage,
      reason: /cannot mix 'volume-\*' options with mount type 'tmpfs'$/,
    },
    {
      args: ['create', '--mount', 'type=volume,target=/t,colour=red', 'busybox'],
      code: usage,
      reason: /unexpected key 'colour' in 'colour=red'$/,
    },
    {
      args: ['create', '--volumes-from', 'nosuch', 'busybox'],
      code: failed,
      reason: /^No such container: nosuch$/,
    },
    {
      args: ['create', '-v', 'v1:/x', '-v', 'v2:/x', 'busybox'],
      code: failed,
      reason: /^Duplicate mount point: \/x$/,
    },
    { args: ['create', '-l', '=x', 'busybox'], code: usage, reason: /^invalid label: =x$/ },
    { args: ['create', 'nosuch:1'], code: failed, reason: /^Unable to find image 'nosuch:1' locally$/ },
    { args: ['create', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    {
      args: ['create', '--name', 'c1', 'busybox'],
      code: failed,
      reason: /^Conflict\. The container name "\/c1" is already in use by container "[0-9a-f]{64}"\./,
    },
  ],
  du: [
    { args: ['du', 'extra'], code: failed, reason: /^"tbuild du" accepts no arguments\.$/ },
    { args: ['du', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['system', 'df', '-x'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
  ],
  fsck: [
    { args: ['fsck', 'extra'], code: failed, reason: /^"tbuild fsck" accepts no arguments\.$/ },
    { args: ['fsck', '--repair'], code: usage, reason: /^unknown flag: --repair$/ },
  ],
  history: [
    { args: ['history'], code: failed, reason: /^"tbuild history" requires exactly 1 argument\.$/ },
    { args: ['history', 'busybox', 'busybox'], code: failed, reason: /requires exactly 1 argument/ },
    { args: ['history', 'nosuch:1'], code: failed, reason: /^No such image: nosuch:1$/ },
    { args: ['history', '--frobnicate', 'busybox'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['history', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    { args: ['image', 'history'], code: failed, reason: /^"tbuild history" requires exactly 1 argument\.$/ },
    {
      args: ['history', '--format', '{{.Foo}}', 'busybox'],
      code: failed,
      reason:
        /^template parsing error: template: :1:2: executing "" at <\.Foo>: can't evaluate field Foo in type \*image\.historyContext$/,
    },
    {
      args: ['history', '--format', '{{.ID', 'busybox'],
      code: failed,
      reason: /^template parsing error: template: :1: unclosed action$/,
    },
  ],
  images: [
    { args: ['images', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['images', '-x'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
    {
      args: ['images', '--quiet=maybe'],
      code: usage,
      reason: /^invalid argument "maybe" for "-q, --quiet" flag: strconv\.ParseBool/,
    },
    { args: ['images', 'a', 'b'], code: failed, reason: /^"tbuild images" requires at most 1 argument\.$/ },
    { args: ['images', '--format'], code: usage, reason: /^flag needs an argument: --format$/ },
    { args: ['images', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    { args: ['image', 'ls', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['images', '--format', '{{.Foo'],
      code: failed,
      reason: /^template parsing error: template: :1: unclosed action$/,
    },
    {
      args: ['images', '--format', '{{.Foo}}'],
      code: failed,
      reason: /can't evaluate field Foo in type \*formatter\.imageContext$/,
    },
    {
      args: ['images', '--format', '{{nosuch .ID}}'],
      code: failed,
      reason: /^template parsing error: template: :1: function "nosuch" not defined$/,
    },
    { args: ['images', '-f', 'dangling=x'], code: failed, reason: /^Invalid filter 'dangling=\[x\]'$/ },
    { args: ['images', '-f', 'foo=bar'], code: failed, reason: /^Invalid filter 'foo'$/ },
    {
      args: ['images', '-f', 'dangling'],
      code: usage,
      reason:
        /^invalid argument "dangling" for "-f, --filter" flag: bad format of filter \(expected name=value\)$/,
    },
    { args: ['images', '-f', 'before=nosuch:1'], code: failed, reason: /^No such image: nosuch:1$/ },
  ],
  import: [
    {
      args: ['import', '/no/such.tar'],
      code: failed,
      reason: /^\/no\/such\.tar: no such file or directory; expected a tar archive file \(import\)$/,
    },
    {
      args: ['import', '@dir'],
      code: failed,
      reason: /\/dir: is a directory; expected a tar archive file \(import\)$/,
    },
    {
      args: ['import', '@file/x.tar'],
      code: failed,
      reason: /\/file\/x\.tar: not a directory; expected a tar archive file/,
    },
    {
      args: ['import'],
      code: failed,
      reason: /^"tbuild import" requires at least 1 and at most 2 arguments\.$/,
    },
    {
      args: ['import', '@rootfs', 'a', 'b'],
      code: failed,
      reason: /requires at least 1 and at most 2 arguments/,
    },
    {
      args: ['import', '-c', 'RUN echo hi', '@rootfs'],
      code: failed,
      reason: /RUN is not a valid change command/,
    },
    { args: ['import', '@rootfs', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    { args: ['import', '--frobnicate', '@rootfs'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  inspect: [
    { args: ['inspect'], code: failed, reason: /^"tbuild inspect" requires at least 1 argument\.$/ },
    { args: ['inspect', 'nosuch:1'], code: failed, reason: /^No such image: nosuch:1$/ },
    { args: ['inspect', '--frobnicate', 'busybox'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['image', 'inspect', 'nosuch:2'], code: failed, reason: /^No such image: nosuch:2$/ },
    {
      args: ['inspect', '-f', '{{.Foo', 'busybox'],
      code: badTemplate,
      reason: /^template parsing error: template: :1: unclosed action$/,
    },
    {
      args: ['inspect', '-f', '{{.Config.Foo.Bar}}', 'busybox'],
      code: failed,
      reason:
        /^template parsing error: template: :1:9: executing "" at <\.Config\.Foo\.Bar>: map has no entry for key "Foo"$/,
    },
    { args: ['inspect', '--format'], code: usage, reason: /^flag needs an argument: --format$/ },
  ],
  commit: [
    {
      args: ['commit'],
      code: failed,
      reason: /^"tbuild commit" requires at least 1 and at most 2 arguments\.$/,
    },
    { args: ['commit', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['commit', '--frobnicate', 'c1'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  cp: [
    { args: ['cp'], code: failed, reason: /^"tbuild cp" requires exactly 2 arguments\.$/ },
    { args: ['cp', 'a', 'b'], code: failed, reason: /^must specify at least one container source$/ },
    { args: ['cp', 'nosuch:/x', '/tmp/y'], code: failed, reason: /^No such container: nosuch$/ },
  ],
  export: [
    { args: ['export'], code: failed, reason: /^"tbuild export" requires exactly 1 argument\.$/ },
    { args: ['export', '-o', '/tmp/x.tar', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['export', '-x', 'c1'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
  ],
  pause: [
    { args: ['pause'], code: failed, reason: /^"tbuild pause" requires at least 1 argument\.$/ },
    { args: ['pause', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['pause', 'c1'], code: failed, reason: /^Container [0-9a-f]{64} is not running$/ },
  ],
  rename: [
    { args: ['rename', 'c1'], code: failed, reason: /^"tbuild rename" requires exactly 2 arguments\.$/ },
    {
      args: ['rename', 'c1', 'c1'],
      code: failed,
      reason: /^Renaming a container with the same name as its current name$/,
    },
    { args: ['rename', 'c1', 'a'], code: failed, reason: /^Invalid container name \(a\), only/ },
  ],
  restart: [
    { args: ['restart'], code: failed, reason: /^"tbuild restart" requires at least 1 argument\.$/ },
    { args: ['restart', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['restart', '-t', 'x', 'c1'],
      code: usage,
      reason: /^invalid argument "x" for "-t, --time" flag: strconv\.ParseInt: parsing "x": invalid syntax$/,
    },
  ],
  top: [
    { args: ['top'], code: failed, reason: /^"tbuild top" requires at least 1 argument\.$/ },
    { args: ['top', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['top', 'c1'], code: failed, reason: /^Container [0-9a-f]{64} is not running$/ },
  ],
  unpause: [
    { args: ['unpause'], code: failed, reason: /^"tbuild unpause" requires at least 1 argument\.$/ },
    { args: ['unpause', 'c1'], code: failed, reason: /^Container [0-9a-f]{64} is not paused$/ },
  ],
  exec: [
    { args: ['exec'], code: failed, reason: /^"tbuild exec" requires at least 2 arguments\.$/ },
    { args: ['exec', 'c1'], code: failed, reason: /^"tbuild exec" requires at least 2 arguments\.$/ },
    { args: ['exec', 'nosuch', 'true'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['exec', 'c1', 'true'], code: failed, reason: /^Container [0-9a-f]{64} is not running$/ },
    { args: ['exec', '-e'], code: usage, reason: /^flag needs an argument: 'e' in -e$/ },
    { args: ['exec', '--frobnicate', 'c1', 'true'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['exec', '--env-file'], code: usage, reason: /^flag needs an argument: --env-file$/ },
    {
      args: ['exec', '-d', '-t', 'c1', 'true'],
      code: failed,
      reason: /^Container [0-9a-f]{64} is not running$/,
    },
  ],
  kill: [
    { args: ['kill'], code: failed, reason: /^"tbuild kill" requires at least 1 argument\.$/ },
    { args: ['kill', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['kill', 'c1'],
      code: failed,
      reason: /^Cannot kill container: c1: Container [0-9a-f]{64} is not running$/,
    },
    // moby daemon/kill.go ContainerKill parses the signal before it looks the container up.
    { args: ['kill', '-s', 'FOO', 'c1'], code: failed, reason: /^Invalid signal: FOO$/ },
    { args: ['kill', '--signal'], code: usage, reason: /^flag needs an argument: --signal$/ },
    { args: ['kill', '-x', 'c1'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
  ],
  load: [
    {
      args: ['load', '-i', '/no/such.tar'],
      code: failed,
      reason: /^\/no\/such\.tar: no such file or directory; expected a tar archive file \(load -i\)$/,
    },
    {
      args: ['load', '-i', '@dir'],
      code: failed,
      reason: /\/dir: is a directory; expected a tar archive file \(load -i\)$/,
    },
    {
      args: ['load', '--input', '@file/x.tar'],
      code: failed,
      reason: /\/file\/x\.tar: not a directory; expected a tar archive file/,
    },
    { args: ['load', '-i', '@file'], code: failed, reason: /./ },
    { args: ['load', '-i'], code: usage, reason: /^flag needs an argument: 'i' in -i$/ },
    { args: ['load', 'x.tar'], code: failed, reason: /^"tbuild load" accepts no arguments\.$/ },
    { args: ['load', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['image', 'load', '-i', '/no/such.tar'],
      code: failed,
      reason: /^\/no\/such\.tar: no such file or directory/,
    },
  ],
  login: [
    { args: ['login'], code: failed, reason: /^"tbuild login" requires exactly 1 argument\.$/ },
    {
      args: ['login', '--password-stdin', '127.0.0.1:1'],
      code: usage,
      reason: /^Must provide --username with --password-stdin$/,
    },
    {
      args: ['login', '-u', 'u', '-p', 'x', '--password-stdin', '127.0.0.1:1'],
      code: usage,
      reason: /mutually exclusive/,
    },
    { args: ['login', '-u'], code: usage, reason: /^flag needs an argument: 'u' in -u$/ },
    { args: ['login', '--frobnicate', '127.0.0.1:1'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  logout: [
    { args: ['logout'], code: failed, reason: /^"tbuild logout" requires exactly 1 argument\.$/ },
    { args: ['logout', 'a', 'b'], code: failed, reason: /requires exactly 1 argument/ },
    { args: ['logout', '--frobnicate', 'a'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  logs: [
    { args: ['logs'], code: failed, reason: /^"tbuild logs" requires exactly 1 argument\.$/ },
    { args: ['logs', 'c1', 'c2'], code: failed, reason: /requires exactly 1 argument/ },
    { args: ['logs', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['logs', '--since', 'yesterday', 'c1'],
      code: failed,
      reason: /^invalid value for "since": failed to parse value as time or duration: "yesterday"$/,
    },
    { args: ['logs', '--tail'], code: usage, reason: /^flag needs an argument: --tail$/ },
    {
      args: ['logs', '--follow=maybe', 'c1'],
      code: usage,
      reason: /^invalid argument "maybe" for "-f, --follow" flag/,
    },
  ],
  network: [
    { args: ['network', 'frob'], code: failed, reason: /^unknown command: tbuild network frob$/ },
    {
      args: ['network', 'create'],
      code: failed,
      reason: /^"tbuild network create" requires exactly 1 argument\.$/,
    },
    {
      args: ['network', 'create', '--subnet', 'nonsense', 'n1'],
      code: failed,
      reason: /^invalid CIDR address: nonsense$/,
    },
    {
      args: ['network', 'create', '--subnet', '172.17.5.0/24', 'n1'],
      code: failed,
      reason: /^Pool overlaps with other one on this address space$/,
    },
    {
      args: ['network', 'create', '-d', 'overlay', 'n1'],
      code: failed,
      reason: /^plugin "overlay" not found$/,
    },
    {
      args: ['network', 'create', '--gateway', '10.1.1.1', 'n1'],
      code: failed,
      reason: /^every ip-range or gateway must have a corresponding subnet$/,
    },
    {
      args: ['network', 'create', 'bridge'],
      code: failed,
      reason: /^network with name bridge already exists$/,
    },
    { args: ['network', 'rm', 'nosuch'], code: failed, reason: /^No such network: nosuch$/ },
    {
      args: ['network', 'rm', 'host'],
      code: failed,
      reason: /^host is a pre-defined network and cannot be removed$/,
    },
    { args: ['network', 'inspect', 'nosuch'], code: failed, reason: /^No such network: nosuch$/ },
    { args: ['network', 'ls', '--filter', 'color=red'], code: failed, reason: /^Invalid filter 'color'$/ },
    { args: ['network', 'connect', 'nosuch', 'c1'], code: failed, reason: /^network nosuch not found$/ },
    { args: ['network', 'connect', 'bridge', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['network', 'connect', 'host', 'c1'], code: failed, reason: /connected to host network$/ },
    {
      args: ['network', 'disconnect', 'none', 'c1'],
      code: failed,
      reason: /is not connected to network none$/,
    },
  ],
  volume: [
    { args: ['volume', 'frob'], code: failed, reason: /^unknown command: tbuild volume frob$/ },
    {
      args: ['volume', 'create', 'a', 'b'],
      code: failed,
      reason: /^"tbuild volume create" requires at most 1 argument\.$/,
    },
    {
      args: ['volume', 'create', 'a/b'],
      code: failed,
      reason: /^create a\/b: "a\/b" includes invalid characters for a local volume name/,
    },
    { args: ['volume', 'create', 'v'], code: failed, reason: /^create v: volume name is too short/ },
    {
      args: ['volume', 'create', '-d', 'nfs', 'v1'],
      code: failed,
      reason: /^create: plugin "nfs" not found$/,
    },
    { args: ['volume', 'rm', 'nosuch'], code: failed, reason: /^get nosuch: no such volume$/ },
    { args: ['volume', 'rm'], code: failed, reason: /^"tbuild volume rm" requires at least 1 argument\.$/ },
    { args: ['volume', 'inspect', 'nosuch'], code: failed, reason: /^No such volume: nosuch$/ },
    { args: ['volume', 'ls', '--filter', 'color=red'], code: failed, reason: /^Invalid filter 'color'$/ },
    { args: ['volume', 'ls', '--filter', 'color'], code: usage, reason: /bad format of filter/ },
    { args: ['volume', 'prune', '--filter', 'name=x'], code: failed, reason: /^Invalid filter 'name'$/ },
  ],
  parse: [
    {
      args: ['parse', '-f', '/no/such/Dockerfile'],
      code: usage,
      reason: /^\/no\/such\/Dockerfile: no such file or directory; expected a Dockerfile \(-f\)$/,
    },
    {
      args: ['parse', '-f', '@dir'],
      code: usage,
      reason: /\/dir: is a directory; expected a Dockerfile \(-f\)$/,
    },
    {
      args: ['parse', '--dump', '--json', '-f', '@ctx/Dockerfile'],
      code: usage,
      reason: /^--dump and --json cannot be used together$/,
    },
    { args: ['parse', 'Dockerfile'], code: failed, reason: /^"tbuild parse" accepts no arguments\.$/ },
    { args: ['parse', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  prune: [
    { args: ['prune', '-f', '--filter', 'bogus=1'], code: usage, reason: /^invalid filter 'bogus'$/ },
    { args: ['prune', '-f', '--filter', 'until=soon'], code: usage, reason: /^invalid until filter "soon"/ },
    {
      args: ['prune', '-f', '--keep-storage', 'lots'],
      code: usage,
      reason: /^invalid --keep-storage "lots"$/,
    },
    { args: ['prune', 'extra'], code: failed, reason: /^"tbuild prune" accepts no arguments\.$/ },
    { args: ['builder', 'prune', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['system', 'prune', '-x'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
  ],
  ps: [
    { args: ['ps', 'x'], code: failed, reason: /^"tbuild ps" accepts no arguments\.$/ },
    { args: ['container', 'ls', 'x'], code: failed, reason: /^"tbuild ps" accepts no arguments\.$/ },
    { args: ['ps', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['ps', '-n', 'x'],
      code: usage,
      reason: /^invalid argument "x" for "-n, --last" flag: strconv\.ParseInt: parsing "x": invalid syntax$/,
    },
    {
      args: ['ps', '-f', 'foo'],
      code: usage,
      reason:
        /^invalid argument "foo" for "-f, --filter" flag: bad format of filter \(expected name=value\)$/,
    },
    { args: ['ps', '-f', 'foo=bar'], code: failed, reason: /^invalid filter 'foo'$/ },
    { args: ['ps', '-f', 'status=bogus'], code: failed, reason: /^invalid filter 'status=bogus'/ },
    { args: ['ps', '-f', 'exited=x'], code: failed, reason: /^invalid filter 'exited=x'$/ },
  ],
  pull: [
    { args: ['pull'], code: failed, reason: /^"tbuild pull" requires exactly 1 argument\.$/ },
    { args: ['pull', 'a', 'b'], code: failed, reason: /requires exactly 1 argument/ },
    { args: ['pull', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    { args: ['pull', '--platform', 'linux', 'busybox'], code: usage, reason: /platform/ },
    { args: ['pull', '--frobnicate', 'busybox'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  push: [
    { args: ['push'], code: failed, reason: /^"tbuild push" requires exactly 1 argument\.$/ },
    {
      args: ['push', '127.0.0.1:1/nosuch:1'],
      code: failed,
      reason: /An image does not exist locally with the tag: 127.0.0.1:1\/nosuch:1$/,
    },
    { args: ['push', 'Bad::ref'], code: failed, reason: /invalid reference format/ },
    { args: ['push', '--frobnicate', 'x'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  rm: [
    { args: ['rm'], code: failed, reason: /^"tbuild rm" requires at least 1 argument\.$/ },
    { args: ['container', 'rm'], code: failed, reason: /^"tbuild rm" requires at least 1 argument\.$/ },
    { args: ['rm', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['rm', '--volumes=maybe', 'c1'],
      code: usage,
      reason: /^invalid argument "maybe" for "-v, --volumes"/,
    },
    { args: ['rm', '-x', 'c1'], code: usage, reason: /^unknown shorthand flag: 'x' in -x$/ },
  ],
  rmi: [
    // c1, a stopped container, uses busybox (moby image_delete.go ImageDelete's conflicts).
    {
      args: ['rmi', 'busybox'],
      code: failed,
      reason:
        /^conflict: unable to remove repository reference "busybox" \(must force\) - container [0-9a-f]{12} is using its referenced image [0-9a-f]{12}$/,
    },
    {
      args: ['rmi', '@bbid'],
      code: failed,
      reason:
        /^conflict: unable to delete [0-9a-f]{12} \(must be forced\) - image is being used by stopped container [0-9a-f]{12}$/,
    },
    { args: ['rmi'], code: failed, reason: /^"tbuild rmi" requires at least 1 argument\.$/ },
    { args: ['rmi', 'nosuch:1'], code: failed, reason: /^No such image: nosuch:1$/ },
    { args: ['rmi', '--frobnicate', 'x'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['rmi', '--force=maybe', 'x'],
      code: usage,
      reason: /^invalid argument "maybe" for "-f, --force" flag/,
    },
    { args: ['image', 'rm'], code: failed, reason: /^"tbuild rmi" requires at least 1 argument\.$/ },
  ],
  run: [
    { args: ['run'], code: failed, reason: /^"tbuild run" requires at least 1 argument\.$/ },
    { args: ['run', '--frobnicate', 'busybox'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    // A foreground run is a kept container: any network, checked as run -d checks it.
    {
      args: ['run', '--network', 'nosuchnet', 'busybox'],
      code: usage,
      reason: /^network nosuchnet not found$/,
    },
    { args: ['run', '-e'], code: usage, reason: /^flag needs an argument: 'e' in -e$/ },
    { args: ['container', 'run'], code: failed, reason: /^"tbuild run" requires at least 1 argument\.$/ },
    {
      args: ['run', '--env-file', '/no/such.env', 'busybox'],
      code: usage,
      reason: /^open \/no\/such\.env: no such file or directory$/,
    },
    { args: ['run', '--detach-keys'], code: usage, reason: /^flag needs an argument: --detach-keys$/ },
  ],
  attach: [
    { args: ['attach'], code: failed, reason: /^"tbuild attach" requires exactly 1 argument\.$/ },
    { args: ['attach', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['attach', 'c1'],
      code: failed,
      reason: /^You cannot attach to a stopped container, start it first$/,
    },
    { args: ['attach', '--detach-keys'], code: usage, reason: /^flag needs an argument: --detach-keys$/ },
  ],
  diff: [
    { args: ['diff'], code: failed, reason: /^"tbuild diff" requires exactly 1 argument\.$/ },
    { args: ['diff', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['container', 'diff', 'c1', 'c1'], code: failed, reason: /^"tbuild diff" requires exactly 1/ },
  ],
  port: [
    {
      args: ['port'],
      code: failed,
      reason: /^"tbuild port" requires at least 1 and at most 2 arguments\.$/,
    },
    { args: ['port', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['port', 'c1', '80'], code: failed, reason: /^No public port '80\/tcp' published for c1$/ },
    {
      args: ['port', 'c1', 'x/udp'],
      code: failed,
      reason: /^strconv\.ParseUint: parsing "x": invalid syntax$/,
    },
  ],
  stats: [
    { args: ['stats', '--no-stream', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['stats', '--frobnicate'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    { args: ['container', 'stats', '--format'], code: usage, reason: /^flag needs an argument: --format$/ },
  ],
  'container prune': [
    {
      args: ['container', 'prune', '-f', '--filter', 'foo=bar'],
      code: failed,
      reason: /^Invalid filter 'foo'$/,
    },
    {
      args: ['container', 'prune', '-f', '--filter', 'until=soon'],
      code: failed,
      reason: /^failed to parse value as time or duration: "soon"$/,
    },
    {
      args: ['container', 'prune', '-f', '--filter', 'until'],
      code: usage,
      reason: /^invalid argument "until" for "--filter" flag: bad format of filter \(expected name=value\)$/,
    },
    {
      args: ['container', 'prune', 'x'],
      code: failed,
      reason: /^"tbuild container prune" accepts no arguments\.$/,
    },
  ],
  save: [
    { args: ['save'], code: failed, reason: /^"tbuild save" requires at least 1 argument\.$/ },
    {
      args: ['save', '-o', '/no/such/dir/x.tar', 'busybox'],
      code: failed,
      reason:
        /^\/no\/such\/dir: no such file or directory; expected an existing directory to create \/no\/such\/dir\/x\.tar in$/,
    },
    {
      args: ['save', '-o', '@dir', 'busybox'],
      code: failed,
      reason: /\/dir: is a directory; expected a file name for the archive \(save -o\)$/,
    },
    {
      args: ['save', '-o', '@file/x.tar', 'busybox'],
      code: failed,
      reason: /\/file: not a directory; expected an existing directory/,
    },
    {
      args: ['save', '-o', '/dev/full', 'busybox'],
      code: failed,
      reason: /^\/dev\/full: no space left on device; expected a file name for the archive \(save -o\)$/,
    },
    {
      args: ['save', '--format', 'zip', '-o', '@out', 'busybox'],
      code: usage,
      reason: /^invalid --format "zip": use "docker" or "oci"$/,
    },
    { args: ['save', '-o', '@out', 'nosuch:1'], code: failed, reason: /^No such image: nosuch:1$/ },
    { args: ['save', '-o'], code: usage, reason: /^flag needs an argument: 'o' in -o$/ },
  ],
  start: [
    { args: ['start'], code: failed, reason: /^"tbuild start" requires at least 1 argument\.$/ },
    { args: ['start', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['start', '--frobnicate', 'c1'], code: usage, reason: /^unknown flag: --frobnicate$/ },
    {
      args: ['start', '-a', 'c1', 'c1'],
      code: failed,
      reason: /^you cannot start and attach multiple containers at once$/,
    },
  ],
  stop: [
    { args: ['stop'], code: failed, reason: /^"tbuild stop" requires at least 1 argument\.$/ },
    { args: ['stop', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    {
      args: ['stop', '-t', 'x', 'c1'],
      code: usage,
      reason: /^invalid argument "x" for "-t, --time" flag: strconv\.ParseInt: parsing "x": invalid syntax$/,
    },
    { args: ['stop', '--time'], code: usage, reason: /^flag needs an argument: --time$/ },
  ],
  tag: [
    { args: ['tag'], code: failed, reason: /^"tbuild tag" requires exactly 2 arguments\.$/ },
    { args: ['tag', 'busybox'], code: failed, reason: /requires exactly 2 arguments/ },
    { args: ['tag', 'a', 'b', 'c'], code: failed, reason: /requires exactly 2 arguments/ },
    { args: ['tag', 'nosuch:1', 'x:1'], code: failed, reason: /^No such image: nosuch:1$/ },
    {
      args: ['tag', 'busybox', 'Bad/Name'],
      code: failed,
      reason: /^invalid reference format: repository name \(Name\) must be lowercase$/,
    },
    { args: ['tag', '--frobnicate', 'a', 'b'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
  wait: [
    { args: ['wait'], code: failed, reason: /^"tbuild wait" requires at least 1 argument\.$/ },
    { args: ['wait', 'nosuch'], code: failed, reason: /^No such container: nosuch$/ },
    { args: ['wait', '--frobnicate', 'c1'], code: usage, reason: /^unknown flag: --frobnicate$/ },
  ],
};

/** The fixture paths `@NAME` stands for, made in the first test. */
const fixtures: Record<string, string> = {};

function expand(args: string[]): string[] {
  return args.map((arg) => arg.replace(/^@(\w+)/, (_, name: string) => fixtures[name] ?? `@${name}`));
}

test('fixtures for the bad invocations', { skip: h.skip }, async () => {
  fixtures.ctx = await h.testdir({ Dockerfile: 'FROM busybox\n' });
  fixtures.empty = await h.testdir({ 'readme.txt': 'no Dockerfile here\n' });
  fixtures.ignoredir = await h.testdir({ Dockerfile: 'FROM busybox\n', '.dockerignore/x': 'x' });
  const misc = await h.testdir({ file: 'not a tar archive, not a directory\n', 'dir/x': 'x' });
  fixtures.file = join(misc, 'file');
  fixtures.dir = join(misc, 'dir');
  fixtures.out = join(misc, 'out.tar');
  fixtures.rootfs = join(misc, 'rootfs.tar');
  await mkdir(fixtures.dir, { recursive: true });
  const { packTar } = await import('../image/helpers.ts');
  await writeFile(fixtures.rootfs, await packTar([{ name: 'etc/hello', data: 'hi\n' }]));
  // A created (never started) container for the container commands' rows to refuse.
  const created = await h.cli(['create', '--name', 'c1', 'busybox']);
  assert.equal(created.code, 0, created.stderr);
  fixtures.bbid = (await h.cli(['images', '-q', 'busybox'])).stdout.trim();
});

let rows = 0;
for (const [command, list] of Object.entries(table)) {
  rows += list.length;
  describe(`bad invocations: ${command}`, { skip: h.skip }, () => {
    describe('rows', { concurrency: 4 }, () => {
      for (const row of list) {
        test(`tbuild ${row.args.join(' ')}`, async () => {
          const r = await h.cli(expand(row.args));
          const lines = r.stderr.split('\n').filter((l) => l !== '');
          const context = `stderr:\n${r.stderr}`;
          assert.equal(r.code, row.code, context);
          assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace was printed\n${context}`);
          assert.doesNotMatch(r.stderr, /internal error|node:internal|Node\.js v/, context);
          // Build output (progress lines) may come before the error; the error is one line,
          // followed at most by Docker's "See 'tbuild CMD --help'." or a hint.
          const at = lines.findIndex((l) => /^(ERROR|Error): /.test(l));
          assert.ok(at >= 0, `no ERROR line\n${context}`);
          const after = lines.slice(at + 1);
          assert.ok(after.length <= 1 && after.every((l) => /^(See '|Run '|hint: )/.test(l)), context);
          assert.match((lines[at] as string).replace(/^(ERROR|Error): /, ''), row.reason, context);
        });
      }
    });
    test('the store is fsck-clean afterwards', async () => {
      const r = await h.cli(['fsck']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /removed/, `something was left behind:\n${r.stdout}`);
      assert.match(r.stdout, /\nok\n$/);
    });
  });
}

// EACCES cannot happen to root, so this row runs tbuild as nobody (setpriv, util-linux), through
// the shipped entry point, on a file it may not read and a root it owns.
test('an unreadable input file as an unprivileged user (EACCES): one line naming the path', {
  skip: skipReason(firstReason(needRoot('dropping privileges'), needCommands('setpriv'))),
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-eacces-'));
  try {
    await chmod(dir, 0o755);
    await mkdir(join(dir, 'root'));
    await chown(join(dir, 'root'), 65534, 65534);
    await writeFile(join(dir, 'secret.tar'), 'x', { mode: 0o000 });
    const child = spawn(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        ...tbuildArgv(['--root', join(dir, 'root'), 'load', '-i', join(dir, 'secret.tar')]),
      ],
      { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.resume();
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, failed, stderr);
    assert.equal(
      stderr,
      `ERROR: ${join(dir, 'secret.tar')}: permission denied; expected a tar archive file (load -i)\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rm -f of a missing container reports it and exits 0 (docker-cli container/rm.go)', {
  skip: h.skip,
}, async () => {
  const r = await h.cli(['rm', '-f', 'nosuch']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'ERROR: No such container: nosuch\n');
});

test('the table covers every command with several rows', { skip: h.skip }, async () => {
  const help = await h.cli(['--help']);
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] as string);
  const covered = new Set(Object.values(table).flatMap((list) => list.map((row) => row.args[0])));
  const missing = commands.filter(
    (c) => !['builder', 'container', 'image', 'system'].includes(c) && !covered.has(c),
  );
  assert.deepEqual(missing, []);
  assert.ok(rows >= 100, `only ${rows} rows`);
});
