/**
 * Attached containers through the CLI, as docker has them: `run` in the foreground keeps its
 * container, `run -it` and `attach` on a pseudo-terminal (window size, the detach keys), `start
 * -a/-i`, signals proxied to the container, `exec -d`, and `--env-file`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tbuildArgv } from '../tbuild-entry.ts';
import { ContainerRoot, containerSkipReason, eventually } from './helpers.ts';

const reason = containerSkipReason();
const ctr = new ContainerRoot();
const attachFlags =
  '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}} {{.Config.OpenStdin}} {{.Config.StdinOnce}}';

/** A tbuild command run in the background until `text` shows on its stdout; its pid and end. */
async function startUntil(args: string[], text: string) {
  const child = spawn(process.execPath, tbuildArgv(['--root', ctr.dir, ...args]), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  await eventually(() => stdout.includes(text) || child.exitCode !== null);
  assert.ok(stdout.includes(text), `never printed ${text}: ${stdout}${stderr}`);
  return { child, closed, output: () => ({ stdout, stderr }) };
}

describe('attached containers', {
  skip: reason ? `container tests skipped: ${reason}` : false,
  concurrency: 4,
}, () => {
  before(() => ctr.setUp('tbuild-attach-'));
  after(() => ctr.tearDown());

  test('run in the foreground keeps its container (ps -a, logs), --rm does not; -i ends stdin at EOF', async () => {
    const r = await ctr.tbuild([
      'run',
      '--name',
      'fg-kept',
      'busybox',
      'sh',
      '-c',
      'echo out; echo err >&2; exit 3',
    ]);
    assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.match(await ctr.statusOf('fg-kept'), /^Exited \(3\) .* ago$/);
    const logs = await ctr.tbuild(['logs', 'fg-kept']);
    assert.deepEqual([logs.stdout, logs.stderr], ['out\n', 'err\n']);
    // Docker's attach flags as its CLI sets them: stdout and stderr for a foreground run.
    assert.equal(await ctr.ok(['inspect', '-f', attachFlags, 'fg-kept']), 'false true true false false\n');

    // -i: our stdin reaches cat, and its end closes cat's stdin (StdinOnce), so cat ends.
    assert.equal(
      await ctr.ok(['run', '-i', '--name', 'fg-i', 'busybox', 'cat'], 'through stdin\n'),
      'through stdin\n',
    );
    assert.equal(await ctr.ok(['inspect', '-f', attachFlags, 'fg-i']), 'true true true true true\n');
    assert.match(await ctr.statusOf('fg-i'), /^Exited \(0\) /);

    assert.equal(await ctr.ok(['run', '--rm', '--name', 'fg-rm', 'busybox', 'echo', 'bye']), 'bye\n');
    assert.equal(await ctr.ok(['ps', '-aq', '--filter', 'name=fg-rm']), '');

    // A command that cannot start: kept as created, with Docker's 127 (removed with --rm).
    const missing = await ctr.tbuild(['run', '--name', 'fg-missing', 'busybox', 'nope']);
    assert.equal(missing.code, 127);
    assert.equal(await ctr.statusOf('fg-missing'), 'Created');
    const gone = await ctr.tbuild(['run', '--rm', '--name', 'fg-missing-rm', 'busybox', 'nope']);
    assert.equal(gone.code, 127);
    assert.equal(await ctr.ok(['ps', '-aq', '--filter', 'name=fg-missing-rm']), '');

    // run -d attaches nothing.
    await ctr.runDetached('-i', '--name', 'fg-d', 'busybox', 'true');
    assert.equal(await ctr.ok(['inspect', '-f', attachFlags, 'fg-d']), 'false false false true false\n');
  });

  test('run -it: the terminal size and its changes, raw output, Ctrl-P Ctrl-Q detaches; attach and exit', async () => {
    const run = await ctr.onPty(
      ['run', '-it', '--name', 'tty-a', 'busybox', 'sh'],
      [
        ['wait', '# '],
        ['send', 'stty size\r'],
        ['wait', '30 100\r\n'],
        ['resize', 40, 120],
        ['send', 'stty size\r'],
        ['wait', '40 120\r\n'],
        ['send', '\x10\x11'],
      ],
      { rows: 30, columns: 100 },
    );
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /stty size\r\n30 100\r\n.*stty size\r\n40 120\r\n/s);
    // The terminal is raw as docker makes it: the container's \r\n arrives as it is.
    assert.doesNotMatch(run.output, /\r\r\n/);
    assert.match(await ctr.statusOf('tty-a'), /^Up /);
    assert.equal(await ctr.ok(['inspect', '-f', attachFlags, 'tty-a']), 'true true true true true\n');

    // attach: the same shell; its detach prints docker's "read escape sequence" and exits 1. (What
    // is typed before tbuild makes the terminal raw is echoed by the terminal itself, and a Ctrl-Q
    // then is the terminal's XON: the steps wait for the shell's answer, which only the attach shows.)
    const attached = await ctr.onPty(
      ['attach', 'tty-a'],
      [
        ['send', 'echo $((6*7))\r'],
        ['wait', '42\r\n'],
        ['send', '\x10\x11'],
      ],
    );
    assert.equal(attached.code, 1, attached.output);
    assert.match(attached.output, /42\r\n.*read escape sequence\r?\n$/s);
    assert.match(await ctr.statusOf('tty-a'), /^Up /);

    // Other detach keys: Ctrl-P Ctrl-Q are then the shell's; the exit code is the container's.
    const exited = await ctr.onPty(
      ['attach', '--detach-keys', 'ctrl-a,b', 'tty-a'],
      [
        ['send', 'echo $((7*7))\r'],
        ['wait', '49\r\n'],
        ['send', 'exit 7\r'],
      ],
    );
    assert.equal(exited.code, 7, exited.output);
    assert.match(await ctr.statusOf('tty-a'), /^Exited \(7\) /);
    const stopped = await ctr.tbuild(['attach', 'tty-a']);
    assert.deepEqual(
      [stopped.code, stopped.stderr],
      [1, 'ERROR: You cannot attach to a stopped container, start it first\n'],
    );

    // start -ai with other keys: detached (exit 0, as docker start), still running.
    await ctr.ok(['create', '-it', '--name', 'tty-b', 'busybox', 'sh']);
    const started = await ctr.onPty(
      ['start', '-ai', '--detach-keys', 'ctrl-a,b', 'tty-b'],
      [
        ['wait', '# '],
        ['send', 'echo hi\r'],
        ['wait', 'hi\r\n'],
        ['send', '\x01b'],
      ],
    );
    assert.equal(started.code, 0, started.output);
    assert.match(await ctr.statusOf('tty-b'), /^Up /);
    const bad = await ctr.tbuild(['attach', '--no-stdin', '--detach-keys', 'ctrl-', 'tty-b']);
    assert.deepEqual([bad.code, bad.stderr], [1, 'ERROR: Invalid detach keys (ctrl-) provided\n']);
    const noTty = await ctr.tbuild(['attach', 'tty-b']);
    assert.deepEqual([noTty.code, noTty.stderr], [1, 'ERROR: the input device is not a TTY\n']);
    await ctr.ok(['rm', '-f', 'tty-b']);
  });

  test('start -a runs attached with the exit code; start -ai feeds stdin; attach with piped stdin', async () => {
    await ctr.ok(['create', '--name', 'st-a', 'busybox', 'sh', '-c', 'echo one; echo two >&2; exit 4']);
    assert.deepEqual(await ctr.tbuild(['start', '-a', 'st-a']), {
      code: 4,
      stdout: 'one\n',
      stderr: 'two\n',
    });
    // Started again: the same command, output and code.
    assert.deepEqual(await ctr.tbuild(['start', '-a', 'st-a']), {
      code: 4,
      stdout: 'one\n',
      stderr: 'two\n',
    });
    const many = await ctr.tbuild(['start', '-a', 'st-a', 'st-a']);
    assert.deepEqual(
      [many.code, many.stderr],
      [1, 'ERROR: you cannot start and attach multiple containers at once\n'],
    );

    await ctr.ok([
      'create',
      '-i',
      '--name',
      'st-i',
      'busybox',
      'sh',
      '-c',
      'while read l; do echo "got $l"; done; echo eof',
    ]);
    assert.equal(await ctr.ok(['start', '-ai', 'st-i'], 'a\nb\n'), 'got a\ngot b\neof\n');
    // Without -i the stdin is not attached: the container's read sees no input of ours.
    await ctr.ok(['create', '-i', '--name', 'st-noi', 'busybox', 'sh', '-c', 'echo started; exit 2']);
    assert.deepEqual(await ctr.tbuild(['start', '-a', 'st-noi'], 'ignored\n'), {
      code: 2,
      stdout: 'started\n',
      stderr: '',
    });

    // run -d -i keeps stdin open past an attach (no StdinOnce): the detach keys in the input end it.
    await ctr.runDetached(
      '-i',
      '--name',
      'at-i',
      'busybox',
      'sh',
      '-c',
      'while read l; do echo "got $l"; done',
    );
    const piped = await ctr.tbuild(['attach', 'at-i'], 'a\nb\n\x10\x11');
    assert.deepEqual([piped.code, piped.stderr], [1, 'read escape sequence\n']);
    // What came before the keys reached the container (its answers may come after the detach).
    await eventually(async () => (await ctr.ok(['logs', 'at-i'])) === 'got a\ngot b\n');
    assert.equal(await ctr.ok(['logs', 'at-i']), 'got a\ngot b\n');
    assert.ok('got a\ngot b\n'.startsWith(piped.stdout), piped.stdout);
    assert.match(await ctr.statusOf('at-i'), /^Up /);
    await ctr.ok(['rm', '-f', 'at-i']);
  });

  test('signals to an attached tbuild go to the container (--sig-proxy); with --sig-proxy=false they detach', async () => {
    const script =
      'trap "echo got-USR1" USR1; trap "echo got-TERM; exit 9" TERM; echo ready; while :; do sleep 0.3; echo tick; done';
    const run = await startUntil(['run', '--name', 'sig-a', 'busybox', 'sh', '-c', script], 'ready\n');
    run.child.kill('SIGUSR1');
    await eventually(() => run.output().stdout.includes('got-USR1\n'));
    run.child.kill('SIGTERM');
    assert.equal(await run.closed, 9);
    assert.match(run.output().stdout, /^ready\n(tick\n)*got-USR1\n(tick\n)*got-TERM\n$/);
    assert.match(await ctr.statusOf('sig-a'), /^Exited \(9\) /);

    await ctr.ok(['start', 'sig-a']);
    // A tick seen through the attach: it is made, and tbuild catches its signals.
    const attach = await startUntil(['attach', '--sig-proxy=false', 'sig-a'], 'tick\n');
    attach.child.kill('SIGTERM');
    assert.equal(await attach.closed, 143);
    assert.match(await ctr.statusOf('sig-a'), /^Up /);
    await ctr.ok(['rm', '-f', 'sig-a']);
  });

  test('exec -d starts a process and returns; -d -t is refused', async () => {
    await ctr.runDetached('--name', 'exec-d', 'busybox', 'sleep', '300');
    // Returns while its process runs on (a wait for it would take 300 s).
    const r = await ctr.tbuild([
      'exec',
      '-d',
      'exec-d',
      'sh',
      '-c',
      'echo started > /tmp/bg; exec sleep 301',
    ]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    await eventually(async () => (await ctr.tbuild(['exec', 'exec-d', 'cat', '/tmp/bg'])).code === 0);
    assert.equal(await ctr.ok(['exec', 'exec-d', 'cat', '/tmp/bg']), 'started\n');
    assert.match(await ctr.ok(['top', 'exec-d']), /sleep 301\n/);
    const missing = await ctr.tbuild(['exec', '-d', 'exec-d', 'nope']);
    assert.equal(missing.code, 126);
    assert.match(
      missing.stderr,
      /^ERROR: OCI runtime exec failed: .*"nope": executable file not found in \$PATH\n$/,
    );
    const tty = await ctr.tbuild(['exec', '-d', '-t', 'exec-d', 'true']);
    assert.deepEqual([tty.code, tty.stderr], [1, 'ERROR: exec -d with -t is not supported by tbuild\n']);
    await ctr.ok(['rm', '-f', 'exec-d']);
  });

  test("--env-file: docker's format for run, create and exec; -e wins; its errors", async () => {
    const file = join(ctr.dir, 'vars.env');
    const text =
      '\ufeffA=1\n  # a comment\n\n  B= spaced "quoted" \r\nFROM_HOST\nNOT_ON_HOST\nC=x=y\nA=2\n\ufeffD=bom\n';
    await writeFile(file, text);
    const env = { FROM_HOST: 'host value', NOT_ON_HOST: '' };
    // A shell passes on only names it can hold: the BOM-prefixed one is read from PID 1's environ.
    const show =
      'env | grep -E "^(A|B|C|D|FROM_HOST|NOT_ON_HOST)=" | sort; tr "\\0" "\\n" < /proc/1/environ | grep -c D=bom';
    const r = await ctr.tbuild(
      ['run', '--rm', '--env-file', file, '-e', 'C=cli', 'busybox', 'sh', '-c', show],
      undefined,
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    // NOT_ON_HOST is empty here, not unset: the host has it (as "").
    assert.equal(r.stdout, 'A=2\nB= spaced "quoted" \nC=cli\nFROM_HOST=host value\nNOT_ON_HOST=\n1\n');
    const id = (
      await ctr.ok(['create', '--env-file', file, 'busybox', 'sleep', '300'], undefined, env)
    ).trim();
    assert.match(
      await ctr.ok(['inspect', '-f', '{{json .Config.Env}}', id]),
      /"A=2","B= spaced \\"quoted\\" ","FROM_HOST=host value","NOT_ON_HOST=","C=x=y","\ufeffD=bom"/,
    );
    await ctr.ok(['start', id]);
    const unset = join(ctr.dir, 'unset.env');
    await writeFile(unset, 'A\nE=exec\n');
    assert.equal(
      await ctr.ok(['exec', '--env-file', unset, id, 'sh', '-c', 'env | grep -E "^(A|E)="']),
      'E=exec\n',
    );
    await ctr.ok(['rm', '-f', id]);

    const cases: [string, string][] = [
      [join(ctr.dir, 'nope.env'), `open ${join(ctr.dir, 'nope.env')}: no such file or directory`],
      ['@A B=1\n', "poorly formatted environment: variable 'A B' contains whitespaces"],
      ['@=1\n', "poorly formatted environment: no variable name on line '=1'"],
    ];
    for (const [what, message] of cases) {
      let path = what;
      if (what.startsWith('@')) {
        path = join(ctr.dir, 'bad.env');
        await writeFile(path, what.slice(1));
      }
      const bad = await ctr.tbuild(['run', '--rm', '--env-file', path, 'busybox', 'true']);
      assert.deepEqual([bad.code, bad.stderr], [125, `ERROR: ${message}\nSee 'tbuild run --help'.\n`]);
      const onExec = await ctr.tbuild(['exec', '--env-file', path, 'nosuch', 'true']);
      assert.deepEqual([onExec.code, onExec.stderr], [1, `ERROR: ${message}\n`]);
    }
  });
});
