// Robustness: random and mutated Dockerfiles never make the parser throw anything but a
// ParseError, and never take long. Mutations start from BuildKit's testfiles.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import fc from 'fast-check';
import { dumpDockerfile, ParseError, parseDockerfile, toInstructions } from '../../parser/index.ts';

const dir = resolve(import.meta.dirname, '../../fixtures/conformance/parser/testfiles');
const seeds = readdirSync(dir)
  .sort()
  .map((name) => new Uint8Array(readFileSync(join(dir, name, 'Dockerfile'))));
const perInputMs = 250;

/** How many inputs were accepted and rejected, to show that both paths were exercised. */
const outcomes = { ok: 0, rejected: 0 };

/** Parses, converts and dumps; returns normally or with a ParseError, and within the time bound. */
function check(input: Uint8Array | string): void {
  const t0 = performance.now();
  try {
    const ast = parseDockerfile(input);
    dumpDockerfile(ast);
    toInstructions(ast);
    outcomes.ok++;
  } catch (e) {
    outcomes.rejected++;
    if (!(e instanceof ParseError)) {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
      assert.fail(`non-ParseError ${String(e)} for ${JSON.stringify(text)}`);
    }
    assert.match(e.message, /^Dockerfile:\d+:\d+: /);
    assert.ok(e.line >= 1 && e.col >= 1, `location ${e.line}:${e.col} is 1-based`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < perInputMs, `parsing took ${ms.toFixed(0)} ms`);
}

const inserts = [
  '\\',
  '`',
  '"',
  "'",
  '[',
  ']',
  '{',
  '<<EOF',
  '<<-"X"',
  '\nEOF\n',
  '--',
  '=',
  '\r\n',
  '#',
  ' ',
  '\t',
  '\u00a0',
  '\\\n',
];
const enc = new TextEncoder();

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'drop' | 'dup'; line: number }
  | { op: 'insert'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constantFrom('drop' as const, 'dup' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...inserts) }),
);

function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  if (input.length === 0) return input;
  if (m.op === 'flip') {
    const out = input.slice();
    const i = m.at % out.length;
    out[i] = (out[i] as number) ^ (1 << m.bit);
    return out;
  }
  if (m.op === 'insert') {
    const i = m.at % (input.length + 1);
    return Buffer.concat([input.subarray(0, i), enc.encode(m.text), input.subarray(i)]);
  }
  const lines = Buffer.from(input).toString('latin1').split('\n');
  const i = m.line % lines.length;
  if (m.op === 'drop') lines.splice(i, 1);
  else lines.splice(i, 0, lines[i] as string);
  return Buffer.from(lines.join('\n'), 'latin1');
}

/** Runs a property and checks that it saw both valid and invalid inputs. */
function assertBothOutcomes(run: () => void): void {
  outcomes.ok = 0;
  outcomes.rejected = 0;
  run();
  assert.ok(outcomes.ok > 100 && outcomes.rejected > 100, `outcomes ${JSON.stringify(outcomes)}`);
}

test('mutated testfiles parse or fail with a ParseError, quickly', () => {
  assertBothOutcomes(() =>
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (s, ms) => {
          check(ms.reduce(mutate, seeds[s] as Uint8Array));
        },
      ),
      { numRuns: 6000, seed: 20261125 },
    ),
  );
});

const word = fc.constantFrom(
  'FROM',
  'from',
  'RUN',
  'COPY',
  'ADD',
  'ENV',
  'LABEL',
  'ARG',
  'CMD',
  'ENTRYPOINT',
  'SHELL',
  'HEALTHCHECK',
  'ONBUILD',
  'EXPOSE',
  'VOLUME',
  'WORKDIR',
  'USER',
  'STOPSIGNAL',
  'MAINTAINER',
  'FNTRYPOINT',
  'AS',
  'CMD',
  'NONE',
  'alpine',
  'a=b',
  'k="v w"',
  "'x'",
  '["a", "b"]',
  '[1]',
  '[',
  '"',
  '\\',
  '`',
  '<<EOF',
  '<<-EOF',
  '3<<"E"',
  'EOF',
  '--mount=type=cache,target=/x',
  '--from=build',
  '--link',
  '--interval=5s',
  '--retries=3',
  '--',
  '--x="a b"',
  '#',
  '# escape=`',
  '# syntax=x',
  '\u2603',
  '\t',
);
const keyword = fc.constantFrom(
  'RUN',
  'COPY',
  'ENV',
  'LABEL',
  'ARG',
  'CMD',
  'EXPOSE',
  'WORKDIR',
  'USER',
  'ONBUILD RUN',
);
const line = fc.oneof(
  { weight: 1, arbitrary: fc.array(word, { minLength: 0, maxLength: 7 }).map((ws) => ws.join(' ')) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(keyword, fc.array(word, { minLength: 0, maxLength: 3 }), fc.constantFrom('a=1', 'x', '/y'))
      .map(([k, ws, last]) => [k, ...ws, last].join(' ')),
  },
);
const dockerfile = fc
  .tuple(
    fc.boolean(),
    fc.array(line, { minLength: 0, maxLength: 12 }),
    fc.constantFrom('\n', '\r\n'),
    fc.boolean(),
  )
  .map(
    ([from, lines, eol, bom]) =>
      (bom ? '\ufeff' : '') + [...(from ? ['FROM alpine'] : []), ...lines].join(eol),
  );

test('random Dockerfiles parse or fail with a ParseError, quickly', () => {
  assertBothOutcomes(() =>
    fc.assert(
      fc.property(dockerfile, (text) => check(text)),
      { numRuns: 4000, seed: 42 },
    ),
  );
});

test('arbitrary bytes parse or fail with a ParseError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(bytes)),
    { numRuns: 1000, seed: 7 },
  );
});
