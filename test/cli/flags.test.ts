// cli/flags.ts parseCommandLine on its own: Docker's exit codes (125 for a flag, 1 for the
// argument count), pflag's int and bool values, and where `stopAtPositional` stops.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { intFlag, parseCommandLine } from '../../cli/flags.ts';
import { TbuildError } from '../../errors.ts';

const ctx = (argv: string[]) => ({ argv, stdout: new PassThrough() });

const runOptions = {
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
} as const;

function thrown(fn: () => unknown): TbuildError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TbuildError, String(error));
    return error;
  }
  assert.fail('did not throw');
}

test('a wrong argument count exits 1 (docker-cli cli/required.go), a bad flag 125', () => {
  const count = thrown(() =>
    parseCommandLine(ctx(['a', 'b']), { name: 'tag', usage: '', options: {}, args: { exactly: 1 } }),
  );
  assert.equal(count.exitCode, 1);
  assert.equal(count.message, '"tbuild tag" requires exactly 1 argument.');
  assert.equal(count.hint, "See 'tbuild tag --help'.");
  const none = thrown(() =>
    parseCommandLine(ctx(['x']), { name: 'ps', usage: '', options: {}, args: { exactly: 0 } }),
  );
  assert.equal(none.exitCode, 1);
  assert.equal(none.message, '"tbuild ps" accepts no arguments.');
  const flag = thrown(() => parseCommandLine(ctx(['--frob']), { name: 'ps', usage: '', options: {} }));
  assert.equal(flag.exitCode, 125);
  assert.equal(flag.message, 'unknown flag: --frob');
});

test('--help prints the usage and returns undefined, whatever else is there', () => {
  const c = ctx(['--help', 'extra', 'args']);
  let out = '';
  c.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  assert.equal(
    parseCommandLine(c, { name: 'ps', usage: '\nUsage: x\n', options: {}, args: { exactly: 0 } }),
    undefined,
  );
  assert.equal(out, 'Usage: x\n');
});

test('intFlag reads what strconv.ParseInt(s, 0, 64) reads and words its error as pflag', () => {
  assert.equal(intFlag('stop', { long: 'time', short: 't' }, '10'), 10);
  assert.equal(intFlag('stop', { long: 'time', short: 't' }, '-1'), -1);
  assert.equal(intFlag('stop', { long: 'time', short: 't' }, '0x10'), 16);
  assert.equal(intFlag('stop', { long: 'time', short: 't' }, '010'), 8);
  const bad = thrown(() => intFlag('stop', { long: 'time', short: 't' }, '1.5'));
  assert.equal(bad.exitCode, 125);
  assert.equal(
    bad.message,
    'invalid argument "1.5" for "-t, --time" flag: strconv.ParseInt: parsing "1.5": invalid syntax',
  );
  assert.throws(() => intFlag('create', { long: 'stop-timeout' }, ''), /for "--stop-timeout" flag/);
});

test('stopAtPositional: flags end at the image, a grouped short flag takes the next word', () => {
  const spec = { name: 'create', usage: '', options: runOptions, args: { min: 1 }, stopAtPositional: true };
  const line = parseCommandLine(ctx(['-ie', 'A=1', '-dt', 'img', 'ls', '-l', '--env', 'B']), spec);
  assert.deepEqual(line?.positionals, ['img', 'ls', '-l', '--env', 'B']);
  assert.deepEqual(line?.values.env, ['A=1']);
  assert.equal(line?.values.detach, true);
  assert.equal(line?.values.interactive, true);
  const eq = parseCommandLine(ctx(['--env=A=1', 'img', 'sh']), spec);
  assert.deepEqual(eq?.positionals, ['img', 'sh']);
  const dashes = parseCommandLine(ctx(['-d', '--', 'img', '-x']), spec);
  assert.deepEqual(dashes?.positionals, ['img', '-x']);
});

test('a short flag with =value, as pflag reads it (-H=false, -t=5)', () => {
  const spec = {
    name: 'history',
    usage: '',
    options: { human: { type: 'boolean', short: 'H' }, time: { type: 'string', short: 't' } },
  } as const;
  const line = parseCommandLine(ctx(['-H=false', '-t=5', 'x']), spec);
  assert.equal(line?.values.human, false);
  assert.equal(line?.values.time, '5');
  assert.deepEqual(line?.positionals, ['x']);
  const bad = thrown(() => parseCommandLine(ctx(['-H=maybe']), spec));
  assert.match(bad.message, /^invalid argument "maybe" for "-H, --human" flag/);
});
