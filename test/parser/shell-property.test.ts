// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the inputs are shell words written with ${…}
// Property-based tests of shell-word expansion (issue 12, "Property-based fuzzing"): arbitrary words
// over the characters that matter to the expander either expand or fail with one
// ShellExpansionError (a one-line message naming the word), without hanging; and laws that hold for every
// input: env values are never expanded again, single quotes are literal, the three forms of
// environment agree, defaults and alternatives pick as BuildKit's lex.go does. The data tables in
// shell.test.ts pin exact results; these explore what the tables do not list.
// TBUILD_FAULTS_FULL=1 runs 20 times as many cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  expandWords,
  expandWordWithMatches,
  type ShellEnv,
  ShellExpansionError,
  ShellLex,
  type ShellLexOptions,
} from '../../parser/index.ts';

const scale = process.env.TBUILD_FAULTS_FULL === '1' ? 20 : 1;
const runs = (n: number) => ({ numRuns: n * scale });
/** A hang fails the test here rather than the whole run's timeout. */
const hangMs = 120_000 * scale;

/** Characters the expander treats specially, and some that it must pass through untouched. */
const shellChar = fc.constantFrom(
  '$',
  '{',
  '}',
  ':',
  '-',
  '+',
  '?',
  '=',
  '#',
  '%',
  '/',
  '*',
  '^',
  ',',
  "'",
  '"',
  '\\',
  '`',
  ' ',
  '\t',
  '\n',
  'a',
  'B',
  '_',
  '1',
  '@',
  '!',
  'é',
  '한',
  '\u00a0',
  '\u2028',
  '😀',
  '\0',
);
const names = ['A', 'B', 'PATH', 'EMPTY', 'x_1', 'UNSET', '한'];
const word = fc.oneof(
  fc.array(shellChar, { maxLength: 40 }).map((cs) => cs.join('')),
  // Words built from expansions, so the `${...}` paths are reached often.
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...names).map((n) => `$${n}`),
        fc
          .tuple(
            fc.constantFrom(...names),
            fc.constantFrom('', ':-', '-', ':+', '+', '?', ':?', '#', '##', '%', '%%', '/', '//', ':='),
            fc.array(shellChar, { maxLength: 6 }),
          )
          .map(([n, op, rest]) => `\${${n}${op}${rest.join('')}}`),
        fc.array(shellChar, { maxLength: 4 }).map((cs) => cs.join('')),
      ),
      { maxLength: 6 },
    )
    .map((parts) => parts.join('')),
);
const value = fc.string({ unit: 'grapheme', maxLength: 12 });
const env = fc.record({
  A: value,
  B: fc.constantFrom('b', 'two words', '$A', '${A}', "'q'", '"d"', '\\'),
  PATH: fc.constant('/usr/bin:/bin'),
  EMPTY: fc.constant(''),
  x_1: value,
  한: fc.constant('korean'),
});
const options: fc.Arbitrary<ShellLexOptions> = fc.record(
  {
    escapeChar: fc.constantFrom('\\' as const, '`' as const),
    rawQuotes: fc.boolean(),
    rawEscapes: fc.boolean(),
    skipProcessQuotes: fc.boolean(),
    skipUnsetEnv: fc.boolean(),
  },
  { requiredKeys: [] },
);

const asList = (e: Record<string, string>) => Object.entries(e).map(([k, v]) => `${k}=${v}`);

/** Expands, or returns the ShellExpansionError; anything else fails the property. */
function attempt(w: string, e: ShellEnv, o: ShellLexOptions = {}) {
  try {
    return expandWordWithMatches(w, e, o);
  } catch (error) {
    if (!(error instanceof ShellExpansionError))
      throw new Error(`not a ShellExpansionError: ${String(error)}`);
    return error;
  }
}

test('arbitrary words expand or fail with one ShellExpansionError', { timeout: hangMs }, () => {
  const outcomes = { ok: 0, rejected: 0 };
  fc.assert(
    fc.property(word, env, options, (w, e, o) => {
      const r = attempt(w, asList(e), o);
      if (r instanceof ShellExpansionError) {
        outcomes.rejected++;
        assert.ok(r.message.startsWith(`failed to process ${JSON.stringify(w)}: `), r.message);
        assert.doesNotMatch(r.message, /[\n\r]/, `a multi-line error: ${JSON.stringify(r.message)}`);
        return;
      }
      outcomes.ok++;
      assert.equal(typeof r.word, 'string');
      for (const x of r.words) assert.notEqual(x, '', 'an empty word');
      for (const n of r.matched) assert.ok(!r.unmatched.has(n), `${n} both matched and unmatched`);
    }),
    { ...runs(3000), seed: 20261202 },
  );
  assert.ok(outcomes.ok > 100 && outcomes.rejected > 100, JSON.stringify(outcomes));
});

test('deep nesting and long words fail or expand without overflowing the stack', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.constantFrom('${A:-', '${UNSET:-', '"${A:+'),
      (depth, open) => {
        const w = `${open.repeat(depth)}x${'}'.repeat(depth)}${open.startsWith('"') ? '"'.repeat(depth) : ''}`;
        const r = attempt(w, ['A=a']);
        if (r instanceof ShellExpansionError) assert.match(r.reason, /nest|bad substitution|quote|missing/i);
      },
    ),
    { ...runs(60), seed: 3 },
  );
});

test('values are inserted verbatim: never expanded, unquoted or unescaped again', () => {
  fc.assert(
    fc.property(value, fc.constantFrom('$X', '${X}', '"$X"', '"${X}"', '${X:-no}', '${X:+$X}'), (v, w) => {
      fc.pre(v !== '' || !w.includes(':'));
      const r = attempt(w, [`X=${v}`]);
      assert.ok(!(r instanceof ShellExpansionError), String(r));
      assert.equal(r.word, v);
      assert.deepEqual([...r.matched], ['X']);
    }),
    { ...runs(2000), seed: 11 },
  );
});

test('single-quoted text is literal', () => {
  fc.assert(
    fc.property(fc.array(shellChar, { maxLength: 30 }), (cs) => {
      const s = cs.join('').replaceAll("'", '');
      const r = attempt(`'${s}'`, ['A=a']);
      assert.ok(!(r instanceof ShellExpansionError), String(r));
      assert.equal(r.word, s);
      assert.equal(r.matched.size + r.unmatched.size, 0);
    }),
    { ...runs(2000), seed: 12 },
  );
});

test('an escaped $ is a literal $, with either escape character', () => {
  fc.assert(
    fc.property(fc.constantFrom('\\' as const, '`' as const), fc.constantFrom(...names), (esc, n) => {
      const r = attempt(`${esc}$${n}`, [`${n}=set`], { escapeChar: esc });
      assert.ok(!(r instanceof ShellExpansionError), String(r));
      assert.equal(r.word, `$${n}`);
    }),
    { ...runs(200), seed: 13 },
  );
});

test('defaults and alternatives: ${X:-w} ${X-w} ${X:+w} ${X+w}', () => {
  const plain = fc.stringMatching(/^[a-z0-9 ./]{0,10}$/);
  fc.assert(
    fc.property(fc.option(plain, { nil: undefined }), plain, (x, w) => {
      const e: ShellEnv = x === undefined ? [] : [`X=${x}`];
      const expand = (s: string) => new ShellLex().expandWord(s, e);
      const set = x !== undefined;
      const nonEmpty = set && x !== '';
      assert.equal(expand(`\${X:-${w}}`), nonEmpty ? x : w);
      assert.equal(expand(`\${X-${w}}`), set ? x : w);
      assert.equal(expand(`\${X:+${w}}`), nonEmpty ? w : '');
      assert.equal(expand(`\${X+${w}}`), set ? w : '');
    }),
    { ...runs(1000), seed: 14 },
  );
});

test('a list, a map and a lookup function give the same expansion', () => {
  fc.assert(
    fc.property(word, env, (w, e) => {
      const map = new Map(Object.entries(e));
      const outcomes = [asList(e), map, (n: string) => map.get(n)].map((form) => {
        const r = attempt(w, form);
        return r instanceof ShellExpansionError ? r.message : [r.word, r.words, [...r.matched].sort()];
      });
      assert.deepEqual(outcomes[1], outcomes[0]);
      assert.deepEqual(outcomes[2], outcomes[0]);
    }),
    { ...runs(1500), seed: 15 },
  );
});

test('words without $, quotes or escapes are split at whitespace and otherwise kept', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[a-zA-Z0-9 _.,:=+/-]{0,30}$/), (s) => {
      assert.deepEqual(
        expandWords(s, []),
        s.split(' ').filter((x) => x !== ''),
      );
      assert.equal(new ShellLex().expandWord(s, []), s);
    }),
    { ...runs(1000), seed: 16 },
  );
});

test('skipUnsetEnv leaves a reference to an unset variable as written', () => {
  fc.assert(
    fc.property(fc.constantFrom('$UNSET', '${UNSET}', '${UNSET:-d}', 'a$UNSET.b'), (w) => {
      const r = new ShellLex({ skipUnsetEnv: true }).expandWord(w, ['A=a']);
      // BuildKit lex.go: `if sw.SkipUnsetEnv && !set { return fmt.Sprintf("${%s%s%s}", …) }`,
      // before any modifier is applied.
      assert.equal(r, w);
    }),
    { ...runs(50), seed: 17 },
  );
});
