// Malformed Dockerfiles and the exact located error each one gets (message, line:col, hint).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError, parseDockerfile, toInstructions, validateGrammar } from '../../parser/index.ts';

/** [Dockerfile, line, col, reason, hint (undefined: not checked)] */
const table: [string, number, number, string, string | undefined][] = [
  ['FROM alpine\nFNTRYPOINT ["sh"]\n', 2, 1, 'unknown instruction: FNTRYPOINT', 'did you mean ENTRYPOINT?'],
  ['FROM alpine\n  wrokdir /app\n', 2, 3, 'unknown instruction: WROKDIR', 'did you mean WORKDIR?'],
  ['FROM alpine\nCOPY --chwn=app a /b\n', 2, 6, 'unknown flag: chwn', 'did you mean chown?'],
  ['FROM alpine\nRUN --mout=type=cache,target=/x make\n', 2, 5, 'unknown flag: mout', 'did you mean mount?'],
  ['FROM --platfrm=linux/amd64 alpine\n', 1, 6, 'unknown flag: platfrm', 'did you mean platform?'],
  [
    'FROM alpine\nCOPY --platform=x a b\n',
    2,
    6,
    'unknown flag: platform',
    'COPY accepts --from, --chown, --chmod, --link, --exclude, --parents',
  ],
  ['FROM alpine\nENV PATH\n', 2, 5, 'ENV must have two arguments', 'write ENV PATH=<value>'],
  [
    'FROM alpine\nENV a=b c\n',
    2,
    9,
    'Syntax error - can\'t find = in "c". Must be of the form: name=value',
    'write c=<value>',
  ],
  ['FROM alpine\nCMD [ "echo", [ "nested" ] ]\n', 2, 5, 'JSON array must contain only strings', undefined],
  ['FROM alpine\nSHELL /bin/bash -c\n', 2, 7, 'SHELL requires the arguments to be in JSON form', undefined],
  ['FROM alpine AS\n', 1, 6, 'FROM requires either one or three arguments', undefined],
  [
    'FROM alpine AS 1stage\n',
    1,
    6,
    'invalid name for build stage: "1stage", name can\'t start with a number or contain symbols',
    undefined,
  ],
  [
    'FROM alpine\nCOPY onlyone\n',
    2,
    6,
    'COPY requires at least two arguments, but only one was provided. Destination could not be determined.',
    undefined,
  ],
  [
    'FROM alpine\nHEALTHCHECK --interval=5 CMD true\n',
    2,
    13,
    'time: missing unit in duration "5"',
    undefined,
  ],
  [
    'FROM alpine\nHEALTHCHECK --timeout=3x CMD true\n',
    2,
    13,
    'time: unknown unit "x" in duration "3x"',
    undefined,
  ],
  [
    'FROM alpine\nHEALTHCHECK --interval=10us CMD true\n',
    2,
    13,
    'Interval "interval" cannot be less than 1ms',
    undefined,
  ],
  [
    'FROM alpine\nHEALTHCHECK --retries=-1 CMD true\n',
    2,
    13,
    '--retries cannot be negative (-1)',
    'use 0 for the default',
  ],
  [
    'FROM alpine\nHEALTHCHECK CONNECT tcp\n',
    2,
    13,
    'Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    undefined,
  ],
  ['FROM alpine\nHEALTHCHECK CMD\n', 2, 13, 'Missing command after HEALTHCHECK CMD', undefined],
  ['FROM alpine\nRUN <<EOF\necho hi\n', 2, 1, 'unterminated heredoc EOF', undefined],
  ['# escape=x\nFROM alpine\n', 1, 1, "invalid escape token 'x' does not match ` or \\", undefined],
  ['# escape=`\n# ESCAPE=\\\nFROM alpine\n', 2, 1, 'only one escape parser directive can be used', undefined],
  ['# syntax=a\n #syntax=b\nFROM alpine\n', 2, 2, 'only one syntax parser directive can be used', undefined],
  ['RUN echo before from\nFROM alpine\n', 1, 1, 'no build stage in current context', undefined],
  [
    'FROM alpine\nONBUILD ONBUILD RUN x\n',
    2,
    9,
    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
    undefined,
  ],
  ['FROM alpine\nONBUILD FROM x\n', 2, 9, "FROM isn't allowed as an ONBUILD trigger", undefined],
  ['FROM alpine\nONBUILD RUNN x\n', 2, 9, 'unknown instruction: RUNN', 'did you mean RUN?'],
  ['FROM alpine\nWORKDIR\n', 2, 8, 'WORKDIR requires exactly one argument', undefined],
  [
    'FROM alpine\nCOPY --link=maybe a b\n',
    2,
    6,
    'expecting boolean value for flag link, not: maybe',
    undefined,
  ],
  ['FROM alpine\nCOPY --from a b\n', 2, 6, 'missing a value on flag: from', 'write --from=<value>'],
  ['FROM alpine\nCOPY --from=a --from=b c d\n', 2, 15, 'duplicate flag specified: from', undefined],
  ['FROM alpine\nRUN --network=bridge true\n', 2, 5, 'unsupported network mode "bridge"', undefined],
  ['FROM alpine\nRUN --mount=type=cache make\n', 2, 5, 'mount type cache requires a target', undefined],
  [
    'FROM alpine\nRUN \\\n  --mount=type=nfs,target=/x \\\n  make\n',
    3,
    3,
    'unsupported mount type "nfs"',
    undefined,
  ],
  ['FROM alpine\nEXPOSE\n', 2, 7, 'EXPOSE requires at least one argument', undefined],
  ['FROM alpine\nARG =x\n', 2, 5, 'ARG names can not be blank', undefined],
  ['\n\n# only a comment\n', 3, 1, 'file with no instructions', undefined],
];

test(`${table.length} malformed Dockerfiles get their exact located error`, () => {
  assert.ok(table.length >= 15);
  for (const [text, line, col, reason, hint] of table) {
    assert.throws(
      () => toInstructions(parseDockerfile(text)),
      (e: unknown) => {
        assert.ok(e instanceof ParseError, `${JSON.stringify(text)} throws a ParseError`);
        assert.equal(e.message, `Dockerfile:${line}:${col}: ${reason}`, JSON.stringify(text));
        assert.equal(e.exitCode, 1);
        if (hint !== undefined) assert.equal(e.hint, hint, JSON.stringify(text));
        else assert.ok(e.hint === undefined || e.hint.length > 0);
        const physical = text.split('\n')[line - 1];
        assert.equal(e.sourceLine, physical, `source line quoted for ${JSON.stringify(text)}`);
        return true;
      },
    );
  }
});

test('the file name given is used in the message', () => {
  assert.throws(() => parseDockerfile('FROM a\nENV X\n', { file: 'app/Dockerfile.dev' }), {
    message: 'app/Dockerfile.dev:2:5: ENV must have two arguments',
  });
});

test('a physical line over 65535 bytes is an error', () => {
  const long = `FROM alpine\nRUN echo ${'x'.repeat(70000)}\n`;
  assert.throws(() => parseDockerfile(long), {
    message: 'Dockerfile:2:1: dockerfile line greater than max allowed size of 65535',
  });
  assert.doesNotThrow(() => parseDockerfile(`FROM alpine\nRUN echo ${'x'.repeat(60000)}\n`));
});

test('the instruction grammar passes Chevrotain validations (skipped at start-up)', () => {
  assert.doesNotThrow(() => validateGrammar());
});
