// BuildKit's parser conformance data (fixtures/conformance/parser, see its README): golden dumps,
// negative files, line ranges and heredoc facts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { heredocsFromLine } from '../../parser/heredoc.ts';
import { dumpDockerfile, ParseError, parseDockerfile, parseHeredocWord } from '../../parser/index.ts';

const dir = resolve(import.meta.dirname, '../../fixtures/conformance/parser');

describe('testfiles: dump equals BuildKit result byte for byte', () => {
  const cases = readdirSync(join(dir, 'testfiles')).sort();
  test('all 33 cases are present', () => assert.equal(cases.length, 33));
  for (const name of cases) {
    test(name, () => {
      const input = readFileSync(join(dir, 'testfiles', name, 'Dockerfile'));
      const expected = readFileSync(join(dir, 'testfiles', name, 'result'), 'utf8');
      assert.equal(dumpDockerfile(parseDockerfile(input)), expected);
    });
  }
});

describe('testfiles-negative: rejected with a located ParseError', () => {
  const expected: Record<string, [string, number, number]> = {
    empty_dockerfile: ['file with no instructions', 1, 1],
    only_comments: ['file with no instructions', 3, 1],
    env_no_value: ['ENV must have two arguments', 3, 5],
    'shykes-nested-json': ['JSON array must contain only strings', 1, 5],
  };
  const cases = readdirSync(join(dir, 'testfiles-negative')).sort();
  test('all 4 cases are present', () => assert.deepEqual(cases, Object.keys(expected).sort()));
  for (const name of cases) {
    test(name, () => {
      const input = readFileSync(join(dir, 'testfiles-negative', name, 'Dockerfile'));
      const [reason, line, col] = expected[name] as [string, number, number];
      assert.throws(
        () => parseDockerfile(input),
        (e: unknown) => {
          assert.ok(e instanceof ParseError);
          assert.equal(e.reason, reason);
          assert.deepEqual([e.line, e.col], [line, col]);
          assert.equal(e.message, `Dockerfile:${line}:${col}: ${reason}`);
          return true;
        },
      );
    });
  }
});

test('testfile-line: instruction ranges are first line to last physical line consumed', () => {
  const ast = parseDockerfile(readFileSync(join(dir, 'testfile-line', 'Dockerfile')));
  assert.deepEqual(
    ast.nodes.map((n) => [n.keyword, n.range.start.line, n.range.end.line]),
    [
      ['FROM', 5, 5],
      ['ENV', 11, 12],
      ['RUN', 17, 31],
    ],
  );
  const starts = ast.nodes.map((n) => n.range.start.line);
  const ends = ast.nodes.map((n) => n.range.end.line);
  assert.deepEqual([Math.min(...starts), Math.max(...ends)], [5, 31]);
});

interface HeredocFact {
  name: string;
  content: string;
  expand: boolean;
  chomp: boolean;
  fd: number;
}
const facts = JSON.parse(readFileSync(join(dir, 'heredoc-cases.json'), 'utf8')) as {
  instruction_cases: {
    id: string;
    dockerfile: string;
    instruction: number;
    heredocs: HeredocFact[];
    instruction_count?: number;
  }[];
  json_form: { dockerfile: string };
  word_cases: { valid_name_EOF: string[]; error: string[]; not_a_heredoc: string[] };
  line_cases: { cases: { line: string; names: string[] }[] };
};

describe('heredoc-cases.json', () => {
  test('has 25 instruction cases', () => assert.equal(facts.instruction_cases.length, 25));
  for (const c of facts.instruction_cases) {
    test(`instruction case ${c.id}`, () => {
      const ast = parseDockerfile(c.dockerfile);
      const node = ast.nodes[c.instruction];
      assert.ok(node, `instruction ${c.instruction} exists`);
      assert.deepEqual(
        node.heredocs.map((h) => ({
          name: h.name,
          content: h.content,
          expand: h.expand,
          chomp: h.chomp,
          fd: h.fd,
        })),
        c.heredocs,
      );
      if (c.instruction_count !== undefined) assert.equal(ast.nodes.length, c.instruction_count);
    });
  }
  test('JSON form never has heredocs', () => {
    const ast = parseDockerfile(facts.json_form.dockerfile);
    assert.equal(ast.nodes.length, 4);
    for (const node of ast.nodes.slice(1)) {
      assert.equal(node.json, true);
      assert.deepEqual(node.heredocs, []);
    }
  });
  test('single words naming EOF', () => {
    for (const w of facts.word_cases.valid_name_EOF) assert.equal(parseHeredocWord(w)?.name, 'EOF', w);
  });
  test('single words with unbalanced quotes are errors', () => {
    for (const w of facts.word_cases.error) assert.throws(() => parseHeredocWord(w), ParseError, w);
  });
  test('single words that are not heredocs', () => {
    for (const w of facts.word_cases.not_a_heredoc) assert.equal(parseHeredocWord(w), undefined, w);
  });
  test('names found on whole lines', () => {
    for (const c of facts.line_cases.cases) {
      assert.deepEqual(
        heredocsFromLine(c.line).map((h) => h.name),
        c.names,
        c.line,
      );
    }
  });
});
