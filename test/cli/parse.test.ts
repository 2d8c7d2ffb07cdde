// `tbuild parse`: dump, JSON, stdin, and located errors with exit code 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'tbuild-parse-'));
after(() => rmSync(work, { recursive: true, force: true }));

function tbuild(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/tbuild.js'), 'parse', ...args], {
    cwd: work,
    input,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--dump prints BuildKit dump format; Dockerfile is the default file', () => {
  const fixture = join(root, 'fixtures/conformance/parser/testfiles/health');
  writeFileSync(join(work, 'Dockerfile'), readFileSync(join(fixture, 'Dockerfile')));
  const r = tbuild(['--dump']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, readFileSync(join(fixture, 'result'), 'utf8'));
});

test('-f - reads stdin; --json prints typed stages', () => {
  const r = tbuild(['-f', '-', '--json'], 'FROM alpine AS base\nWORKDIR /app\n');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    stages: { name: string; base: string; commands: { kind: string; value: string }[] }[];
  };
  assert.equal(out.stages[0]?.name, 'base');
  assert.equal(out.stages[0]?.base, 'alpine');
  assert.deepEqual(
    out.stages[0]?.commands.map((c) => [c.kind, c.value]),
    [['workdir', '/app']],
  );
});

test('a bad Dockerfile exits 1 with the message, the source line and the hint', () => {
  writeFileSync(join(work, 'Bad'), 'FROM alpine\n\tFNTRYPOINT ["sh"]\n');
  const r = tbuild(['-f', 'Bad', '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'ERROR: Bad:2:2: unknown instruction: FNTRYPOINT\n 2 |  FNTRYPOINT ["sh"]\n   |  ^\nhint: did you mean ENTRYPOINT?\n',
  );
});

test('usage errors exit 125', () => {
  assert.equal(tbuild(['--dump', '--json']).code, 125);
  assert.equal(tbuild(['-f', join(work, 'missing')]).code, 125);
});
