// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the inputs are shell words written with ${…}
// Shell-word expansion: BuildKit's own data tables (fixtures/conformance/shell, run as its README
// says), then tables of our own for the forms those files do not cover.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TbuildError } from '../../errors.ts';
import {
  expandWord,
  expandWords,
  expandWordWithMatches,
  type ShellEnv,
  ShellExpansionError,
  ShellLex,
  type ShellLexOptions,
} from '../../parser/index.ts';

const dataDir = join(import.meta.dirname, '../../fixtures/conformance/shell');

/** Runs `fn` and returns its result, or the error's message prefixed with `error: `. */
function outcome<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (error) {
    assert.ok(error instanceof ShellExpansionError, `expected ShellExpansionError, got ${String(error)}`);
    return `error: ${error.message}`;
  }
}

describe('conformance: envVarTest (single word, no splitting)', () => {
  const env = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];
  const envMap = new Map([
    ['PWD', '/home'],
    ['SHELL', 'bash'],
    ['KOREAN', '한국어'],
    ['NULL', ''],
  ]);
  const envFn = (name: string): string | undefined => envMap.get(name);

  test('all 228 Linux lines give the expected word or an error', () => {
    const lines = readFileSync(join(dataDir, 'envVarTest'), 'utf8').split('\n');
    const failures: string[] = [];
    let ran = 0;
    let skippedWindows = 0;
    lines.forEach((raw, index) => {
      if (raw.startsWith('#')) return;
      const line = raw.trim();
      if (line === '') return;
      const fields = line.split('|').map((f) => f.trim());
      assert.equal(fields.length, 3, `line ${index + 1}: expected 3 fields`);
      const [tag, input, expected] = fields as [string, string, string];
      assert.ok(['A', 'U', 'W'].includes(tag), `line ${index + 1}: bad tag ${tag}`);
      if (tag === 'W') {
        skippedWindows++;
        return;
      }
      ran++;
      // Same verdict whichever way the environment is given (BuildKit checks list and map too).
      for (const [how, e] of [
        ['list', env],
        ['map', envMap],
        ['function', envFn],
      ] as [string, ShellEnv][]) {
        const got = outcome(() => expandWord(input, e));
        const ok =
          expected === 'error' ? typeof got === 'string' && got.startsWith('error: ') : got === expected;
        if (!ok)
          failures.push(
            `line ${index + 1} (${how} env): ${input} → ${JSON.stringify(got)}, want ${expected}`,
          );
      }
    });
    assert.deepEqual(failures, []);
    assert.equal(ran, 228);
    assert.equal(skippedWindows, 2);
  });
});

describe('conformance: wordsTest (expansion plus word splitting)', () => {
  test('all 24 lines give the expected word list', () => {
    const lines = readFileSync(join(dataDir, 'wordsTest'), 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop(); // the newline that ends the file
    const env: string[] = [];
    const failures: string[] = [];
    let ran = 0;
    lines.forEach((line, index) => {
      if (line.startsWith('#')) return;
      if (line.startsWith('ENV ')) {
        env.push(line.slice(3).replace(/^ +/, ''));
        return;
      }
      const fields = line.split('|');
      assert.equal(fields.length, 2, `line ${index + 1}: expected exactly one |`);
      const input = (fields[0] as string).trim();
      const expected = (fields[1] as string).replace(/^ +/, '').split(',');
      ran++;
      let got: string[];
      try {
        got = expandWords(input, [...env]);
      } catch (error) {
        assert.ok(error instanceof ShellExpansionError);
        got = ['error'];
      }
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        failures.push(
          `line ${index + 1}: ${input} → ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`,
        );
      }
    });
    assert.deepEqual(failures, []);
    assert.equal(ran, 24);
    assert.equal(env.length, 4);
  });
});

/** A table row: input, environment, then the word or `error: <full message>`. */
type Row = [input: string, env: Record<string, string>, expected: string];

function runTable(rows: Row[], options?: ShellLexOptions): void {
  for (const [input, vars, expected] of rows) {
    const got = outcome(() => expandWord(input, new Map(Object.entries(vars)), options));
    assert.equal(got, expected, `${input} with ${JSON.stringify(vars)}`);
  }
}

describe('POSIX forms without the colon: only unset counts as unset', () => {
  const set = { V: 'val', W: 'w' };
  const empty = { V: '', W: 'w' };
  const unset = { W: 'w' };
  test('${V-word}', () => {
    runTable([
      ['${V-x$W}', set, 'val'],
      ['${V-x$W}', empty, ''],
      ['${V-x$W}', unset, 'xw'],
      ['${V:-x$W}', empty, 'xw'],
    ]);
  });
  test('${V+word}', () => {
    runTable([
      ['${V+x$W}', set, 'xw'],
      ['${V+x$W}', empty, 'xw'],
      ['${V+x$W}', unset, ''],
      ['${V:+x$W}', empty, ''],
    ]);
  });
  test('${V?word}', () => {
    runTable([
      ['${V?oops}', set, 'val'],
      ['${V?oops}', empty, ''],
      ['${V?oops}', unset, 'error: failed to process "${V?oops}": V: oops'],
      ['${V?}', unset, 'error: failed to process "${V?}": V: is not allowed to be unset'],
    ]);
  });
});

describe('${V:?message}', () => {
  test('fails on empty or unset with the expanded message or a default one', () => {
    const word = '${VAR:?message here$ARG}';
    runTable([
      [word, { VAR: 'plain', ARG: 'x' }, 'plain'],
      [word, { VAR: '', ARG: 'x' }, `error: failed to process "${word}": VAR: message herex`],
      [word, { ARG: 'x' }, `error: failed to process "${word}": VAR: message herex`],
      ['${VAR:?}', { VAR: '' }, 'error: failed to process "${VAR:?}": VAR: is not allowed to be empty'],
      ['${VAR:?}', {}, 'error: failed to process "${VAR:?}": VAR: is not allowed to be unset'],
    ]);
  });

  test('the error is a TbuildError carrying the word and the reason', () => {
    try {
      expandWord('a ${B:?no B}', []);
      assert.fail('expected an error');
    } catch (error) {
      assert.ok(error instanceof ShellExpansionError);
      assert.ok(error instanceof TbuildError);
      assert.equal(error.word, 'a ${B:?no B}');
      assert.equal(error.reason, 'B: no B');
      assert.equal(error.exitCode, 1);
    }
  });
});

describe('pattern removal: # ## % %%', () => {
  test('prefix, shortest and longest, with * and ?', () => {
    runTable([
      ['${FOO#x}', { FOO: 'xxyy' }, 'xyy'],
      ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
      ['${FOO##*x*y}', { FOO: 'xxyy' }, ''],
      ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO##*}', { FOO: 'xxyy' }, ''],
      ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
      ['${FOO#}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO##}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
      ['${FOO#y}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
      ['${FOO#$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
      ['${FOO#*/}', { FOO: 'a/b/c' }, 'b/c'],
      ['${FOO##*/}', { FOO: 'a/b/c' }, 'c'],
      ['${NOPE#x}', {}, ''],
    ]);
  });

  test('suffix, shortest and longest', () => {
    runTable([
      ['${FOO%y}', { FOO: 'xxyy' }, 'xxy'],
      ['${FOO%x}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
      ['${FOO%\\**}', { FOO: 'xx**' }, 'xx*'],
      ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
      ['${FOO%/*}', { FOO: 'a/b/c' }, 'a/b'],
      ['${FOO%%/*}', { FOO: 'a/b/c' }, 'a'],
      ['${FOO%.*}', { FOO: 'file.tar.gz' }, 'file.tar'],
      ['${FOO%%.*}', { FOO: 'file.tar.gz' }, 'file'],
      ['${FOO%}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO%%$BAR}', { FOO: 'xxyy', BAR: '' }, 'xxyy'],
      ['${FOO%?}', { FOO: '👽🚀' }, '👽'],
      ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
    ]);
  });

  test('regex characters are literal, and \\} does not end the substitution', () => {
    runTable([['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x']]);
  });

  test('a bad escape in a pattern is an error', () => {
    runTable([
      [
        '${FOO#\\x}',
        { FOO: 'x' },
        `error: failed to process "\${FOO#\\\\x}": invalid pattern (\\x) in substitution: invalid escape '\\x'`,
      ],
    ]);
  });
});

describe('replacement: / and //', () => {
  test('first match and all matches, with wildcards and / in the pattern', () => {
    runTable([
      [
        '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}',
        { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' },
        '/foo.*/*.txt - /foo..*.txt',
      ],
      [
        '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}',
        { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' },
        '/tmp/bar.txt - /bar.txt',
      ],
      [
        '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}',
        { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' },
        '/foo/b/c.txt - /foo/c.txt',
      ],
      ['${FOO/http:\\/\\//https://}', { FOO: 'http://google.de' }, 'https://google.de'],
      ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
      ['${TARGETARCH//amd64/AMD64}', { TARGETARCH: 'amd64' }, 'AMD64'],
      ['${FOO/o*/0}', { FOO: 'foo.o' }, 'f0'],
      ['${FOO/nothere/x}', { FOO: 'abc' }, 'abc'],
      ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
      ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
      ['${FOO///}', {}, ''],
    ]);
  });

  test('// follows Go ReplaceAllString: no empty match next to a match, $0 is the match', () => {
    runTable([
      ['${FOO//$EMPTY/-}', { FOO: 'ab', EMPTY: '' }, '-a-b-'],
      ['${FOO//*/R}', { FOO: 'ab\ncd' }, 'R\nR'],
      ['${FOO//b/$R}', { FOO: 'abc', R: '<$0>' }, 'a<b>c'],
      ['${FOO//b/$R}', { FOO: 'abc', R: '$$x$1${0}' }, 'a$xbc'],
      ['${FOO/b/$R}', { FOO: 'abc', R: '<$0>' }, 'a<$0>c'],
    ]);
  });

  test('unterminated replacements are errors', () => {
    runTable([
      [
        '${FOO//ww}',
        { FOO: 'xxyy' },
        `error: failed to process "\${FOO//ww}": syntax error: missing '/' in \${}`,
      ],
      [
        '${FOO//}',
        { FOO: 'xxyy' },
        `error: failed to process "\${FOO//}": syntax error: missing '/' in \${}`,
      ],
      ['${FOO/a/b', { FOO: 'xxyy' }, `error: failed to process "\${FOO/a/b": syntax error: missing '}'`],
    ]);
  });
});

describe('syntax errors carry BuildKit-like reasons', () => {
  test('messages', () => {
    runTable([
      ['${}', {}, 'error: failed to process "${}": syntax error: bad substitution'],
      ['${', {}, `error: failed to process "\${": syntax error: missing '}'`],
      ['${aaa', {}, `error: failed to process "\${aaa": syntax error: missing '}'`],
      ['${aaa:-bbb ${foo}', {}, `error: failed to process "\${aaa:-bbb \${foo}": syntax error: missing '}'`],
      ['${X:=y}', {}, 'error: failed to process "${X:=y}": unsupported modifier (:=) in substitution'],
      ['${FOO=}', {}, 'error: failed to process "${FOO=}": unsupported modifier (=) in substitution'],
      ['${.}', {}, 'error: failed to process "${.}": unsupported modifier (.) in substitution'],
      [
        `'abc`,
        {},
        `error: failed to process "'abc": unexpected end of statement while looking for matching single-quote`,
      ],
      [
        '"abc',
        {},
        'error: failed to process "\\"abc": unexpected end of statement while looking for matching double-quote',
      ],
    ]);
  });

  test('deep nesting is refused with an error, not a stack overflow', () => {
    const depth = 5000;
    const word = `${'${A:-'.repeat(depth)}x${'}'.repeat(depth)}`;
    const got = outcome(() => expandWord(word, []));
    assert.match(String(got), /^error: .*nested more than 1000 deep$/);
    const ok = `${'${A:-'.repeat(500)}x${'}'.repeat(500)}`;
    assert.equal(expandWord(ok, []), 'x');
  });
});

describe('used and unset variable reporting', () => {
  // [input, env, expected word, matched names, unmatched names]
  const rows: [string, Record<string, string>, string, string[], string[]][] = [
    ['x', { DUMMY: 'dummy' }, 'x', [], []],
    ['x ${UNUSED}', { DUMMY: 'dummy' }, 'x ', [], ['UNUSED']],
    ['x ${FOO}', { FOO: 'y' }, 'x y', ['FOO'], []],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  ', ['FOO', 'BAR'], ['BAZ']],
    ['${FOO:-}', {}, '', [], ['FOO']],
    ['${A:-$B}', { B: 'b' }, 'b', ['B'], ['A']],
    ['${A:+$B}', {}, '', [], ['A', 'B']], // the word is expanded even when not used
    ['$1 $@ "$HOME"', { HOME: '/root' }, '  /root', ['HOME'], ['1', '@']],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy', ['FOO', 'BAR'], []],
    ['${FOO//$N/$R}', { FOO: 'aXa', N: 'a' }, 'X', ['FOO', 'N'], ['R']],
    ["'$QUOTED' \\$ESCAPED", {}, '$QUOTED $ESCAPED', [], []],
  ];
  test('matched and unmatched names per word', () => {
    for (const [input, vars, word, matched, unmatched] of rows) {
      const result = expandWordWithMatches(input, new Map(Object.entries(vars)));
      assert.equal(result.word, word, input);
      assert.deepEqual([...result.matched].sort(), [...matched].sort(), `${input}: matched`);
      assert.deepEqual([...result.unmatched].sort(), [...unmatched].sort(), `${input}: unmatched`);
    }
  });

  test('a release-name style word, with TARGETVARIANT set, empty and unset', () => {
    const word = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
    const base = ['VERSION=v1.2.3', 'TARGETOS=linux'];
    assert.equal(
      expandWord(word, [...base, 'TARGETARCH=arm', 'TARGETVARIANT=v7']),
      'something-v1.2.3.linux-arm-v7.tar.gz',
    );
    assert.equal(
      expandWord(word, [...base, 'TARGETARCH=arm64', 'TARGETVARIANT=']),
      'something-v1.2.3.linux-arm64.tar.gz',
    );
    assert.equal(expandWord(word, [...base, 'TARGETARCH=arm64']), 'something-v1.2.3.linux-arm64.tar.gz');
  });
});

describe('environment forms', () => {
  test('list: later entries win, an entry without = is set to empty; names are case-sensitive', () => {
    assert.equal(expandWord('$car', ['foo=bar', 'car=hat', 'car=bike']), 'bike');
    assert.equal(expandWord('${foo-unset}', ['foo']), '');
    assert.equal(expandWord('${FOO-unset}', ['foo=bar']), 'unset');
    assert.equal(expandWord('$A', ['A=x=y']), 'x=y');
  });
  test('lookup function sees each name looked up', () => {
    const asked: string[] = [];
    const lookup = (name: string): string | undefined => {
      asked.push(name);
      return name === 'ONE' ? '1' : undefined;
    };
    assert.equal(expandWord('$ONE-${TWO:-2}', lookup), '1-2');
    assert.deepEqual(asked, ['ONE', 'TWO']);
  });
});

describe('backtick as escape character', () => {
  const lex = new ShellLex({ escapeChar: '`' });
  const env = ['PWD=/home'];
  test('escapes like \\ does, and \\ is then an ordinary character', () => {
    const rows: [string, string][] = [
      ['he`$PWD', 'he$PWD'],
      ['he$PWD', 'he/home'],
      ['C:\\path\\$PWD', 'C:\\path\\/home'],
      ['"a`"b"', 'a"b'],
      ['"a\\"', 'a\\'],
      ['"`$PWD"', '$PWD'],
      ['"a`tb"', 'a`tb'],
      ['"``"', '`'],
      ['a`tb', 'atb'],
      ['hello`', 'hello'],
      ["'`$PWD'", '`$PWD'],
      ['${X:-`}}', '}'],
    ];
    for (const [input, expected] of rows) assert.equal(lex.expandWord(input, env), expected, input);
    assert.deepEqual(lex.expandWords('a` b c', env), ['a b', 'c']);
  });
  test('patterns still use \\ as their escape, like lex.go', () => {
    assert.equal(lex.expandWord('${V%\\*}', ['V=ab*']), 'ab');
    // The kept backtick is a literal in the pattern and does not make `*` literal.
    assert.equal(lex.expandWord('${V#`*x}', ['V=`abx*x']), '*x');
    assert.equal(lex.expandWord('${V#`*x}', ['V=abx']), 'abx');
  });
});

describe('word splitting details', () => {
  test('words', () => {
    const env = ['S=a  b', 'E='];
    const rows: [string, string[]][] = [
      ['  a   b  ', ['a', 'b']],
      ['$S', ['a', 'b']],
      ['"$S"', ['a  b']],
      ["a '' b", ['a', 'b']],
      ['x"$E"y', ['xy']],
      ['$E', []],
      ['a\\ b', ['a b']],
      ['a\tb\nc', ['a', 'b', 'c']],
    ];
    for (const [input, expected] of rows) assert.deepEqual(expandWords(input, env), expected, input);
  });
  test('<< keeps the spaces, tabs and CRs after it in its word (lex.go processPossibleHeredoc)', () => {
    const rows: [string, string[]][] = [
      ['cat <<  EOF > f', ['cat', '<<  EOF', '>', 'f']],
      ['a <<\t\rb', ['a', '<<\t\rb']],
      ['a << ', ['a', '<< ']],
      ['a < b', ['a', '<', 'b']],
      ['a <<\vb', ['a', '<<', 'b']],
      ['"<< x"', ['<< x']],
    ];
    for (const [input, expected] of rows) assert.deepEqual(expandWords(input, []), expected, input);
    // Only the splitting differs: the text of the word is as written.
    assert.equal(expandWord('cat <<  EOF', []), 'cat <<  EOF');
  });
  test('a leading byte-order mark is skipped, as Go text/scanner does', () => {
    assert.equal(expandWord('\uFEFFa\uFEFF', []), 'a\uFEFF');
  });
});

describe('options', () => {
  const env = ['SET=v'];
  test('rawQuotes keeps the quotes and still protects their content', () => {
    const lex = new ShellLex({ rawQuotes: true });
    assert.equal(lex.expandWord(`'$SET' "$SET" x`, env), `'$SET' "v" x`);
    assert.deepEqual(lex.expandWords(`a "b c"`, env), ['a', '"b c"']);
  });
  test('skipUnsetEnv leaves unset references as written and expands set ones', () => {
    const lex = new ShellLex({ skipUnsetEnv: true });
    const rows: [string, string][] = [
      ['$NO $SET', '$NO v'],
      ['${NO}', '${NO}'],
      ['${NO:-x$SET}', '${NO:-xv}'],
      ['${NO-x}', '${NO-x}'],
      ['${NO##*/}', '${NO##*/}'],
      ['${NO/a/b}', '${NO/a/b}'],
      ['${NO//a/b}', '${NO//a/b}'],
      ['${SET:-x}', 'v'],
      ['${NO:?msg}', '${NO:?msg}'],
    ];
    for (const [input, expected] of rows) assert.equal(lex.expandWord(input, env), expected, input);
  });
  test('skipUnsetEnv with rawQuotes round-trips quotes', () => {
    const lex = new ShellLex({ skipUnsetEnv: true, rawQuotes: true });
    assert.equal(lex.expandWord(`"$NO" '$SET' $SET`, env), `"$NO" '$SET' v`);
  });
  test('skipProcessQuotes makes quotes ordinary characters', () => {
    const lex = new ShellLex({ skipProcessQuotes: true });
    assert.equal(lex.expandWord(`'$SET' "a`, env), `'v' "a`);
    assert.deepEqual(lex.expandWords(`"a b"`, env), ['"a', 'b"']);
  });
  test('rawEscapes keeps escape characters', () => {
    const lex = new ShellLex({ rawEscapes: true });
    assert.equal(lex.expandWord('a\\$SET b\\\\', env), 'a\\$SET b\\\\');
    assert.equal(lex.expandWord('"\\$SET"', env), '\\$SET');
    assert.equal(expandWord('a\\$SET', env), 'a$SET');
  });
  test('the one-call functions honour options too', () => {
    assert.equal(expandWord('`$SET', env, { escapeChar: '`' }), '$SET');
    assert.deepEqual(expandWords('$NO', env, { skipUnsetEnv: true }), ['$NO']);
  });
});
