// Typed instructions and stages, and the line scanner's features (BOM, CRLF, directives,
// continuations, heredocs) seen through the AST.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Command, chompHeredoc, parseDockerfile, toInstructions } from '../../parser/index.ts';

const typed = (text: string) => toInstructions(parseDockerfile(text));
const only = (text: string): Command => {
  const [stage] = typed(`FROM scratch\n${text}`).stages;
  assert.equal(stage?.commands.length, 1);
  return stage.commands[0] as Command;
};

describe('stages', () => {
  test('meta ARGs, stage names, platforms, ranges', () => {
    const ins = typed(
      'ARG BASE=alpine\nARG V\nFROM --platform=linux/arm64 $\u007bBASE} AS Build\nRUN make \\\n  all\n\nFROM scratch\nCOPY --from=build /out /\n',
    );
    assert.deepEqual(
      ins.metaArgs.map((a) => a.args),
      [[{ key: 'BASE', value: 'alpine' }], [{ key: 'V' }]],
    );
    assert.equal(ins.stages.length, 2);
    const [build, final] = ins.stages;
    assert.deepEqual(
      [build?.index, build?.name, build?.base, build?.platform],
      [0, 'build', '$\u007bBASE}', 'linux/arm64'],
    );
    assert.deepEqual(build?.range, { start: { line: 3, col: 1 }, end: { line: 5, col: 5 } });
    assert.deepEqual(
      [final?.index, final?.name, final?.base, final?.platform],
      [1, undefined, 'scratch', undefined],
    );
    assert.deepEqual(
      final?.commands.map((c) => c.kind),
      ['copy'],
    );
  });
});

describe('commands', () => {
  test('RUN: shell and exec form, mounts, network, security', () => {
    const run = only(
      'RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=tok --network=none --security=insecure make all',
    );
    assert.equal(run.kind, 'run');
    if (run.kind !== 'run') return;
    assert.deepEqual(run.cmd, { form: 'shell', line: 'make all' });
    assert.deepEqual(run.mounts, [
      { type: 'cache', target: '/root/.cache', sharing: 'locked', readonly: false },
      { type: 'secret', id: 'tok', readonly: true },
    ]);
    assert.equal(run.network, 'none');
    assert.equal(run.security, 'insecure');
    const exec = only('RUN ["echo", "a b"]');
    assert.deepEqual(exec.kind === 'run' && exec.cmd, { form: 'exec', argv: ['echo', 'a b'] });
  });

  test('RUN with a heredoc keeps the body', () => {
    const run = only('RUN <<EOF bash\nset -e\necho $HOME\nEOF\n');
    assert.ok(run.kind === 'run');
    assert.deepEqual(run.cmd, { form: 'shell', line: '<<EOF bash' });
    assert.deepEqual(run.heredocs, [
      { name: 'EOF', content: 'set -e\necho $HOME\n', expand: true, chomp: false, fd: 0 },
    ]);
  });

  test('COPY: flags, heredoc sources, destination', () => {
    const copy = only(
      'COPY --from=build --chown=1:2 --chmod=0755 --link --parents --exclude=*.md --exclude=tmp <<-"A" src /dst/\n\t\tinside\n\tA\n',
    );
    assert.ok(copy.kind === 'copy');
    assert.deepEqual(copy.sources, ['src']);
    assert.equal(copy.dest, '/dst/');
    assert.deepEqual(
      [copy.from, copy.chown, copy.chmod, copy.link, copy.parents],
      ['build', '1:2', '0755', true, true],
    );
    assert.deepEqual(copy.exclude, ['*.md', 'tmp']);
    assert.deepEqual(copy.heredocs, [
      { name: 'A', content: '\t\tinside\n', expand: false, chomp: true, fd: 0 },
    ]);
    assert.equal(chompHeredoc(copy.heredocs[0]?.content ?? ''), 'inside\n');
    assert.deepEqual(copy.range, { start: { line: 2, col: 1 }, end: { line: 4, col: 2 } });
  });

  test('ADD: checksum, keep-git-dir, JSON form', () => {
    const add = only('ADD --checksum=sha256:abc --keep-git-dir=false ["a b", "/c"]');
    assert.ok(add.kind === 'add');
    assert.deepEqual(
      [add.sources, add.dest, add.checksum, add.keepGitDir, add.link],
      [['a b'], '/c', 'sha256:abc', false, false],
    );
  });

  test('ENV and LABEL: k=v pairs and the legacy form, values as written', () => {
    const env = only('ENV A=1 B="two words" C=x\\ y');
    assert.deepEqual(env.kind === 'env' && env.pairs, [
      ['A', '1'],
      ['B', '"two words"'],
      ['C', 'x\\ y'],
    ]);
    const legacy = only('ENV LEGACY some  value');
    assert.deepEqual(legacy.kind === 'env' && legacy.pairs, [['LEGACY', 'some  value']]);
    const label = only('LABEL "com.x"="y z"');
    assert.deepEqual(label.kind === 'label' && label.pairs, [['"com.x"', '"y z"']]);
  });

  test('HEALTHCHECK: durations in nanoseconds, retries, CMD forms, NONE', () => {
    const hc = only(
      'HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=1.5s --start-interval=1ms500us --retries=2 CMD ["curl", "-f", "x"]',
    );
    assert.ok(hc.kind === 'healthcheck');
    assert.deepEqual(hc.test, ['CMD', 'curl', '-f', 'x']);
    assert.deepEqual(
      [hc.interval, hc.timeout, hc.startPeriod, hc.startInterval, hc.retries],
      [90e9, 500e6, 1.5e9, 1.5e6, 2],
    );
    const shell = only('HEALTHCHECK CMD curl -f http://x/ || exit 1');
    assert.deepEqual(shell.kind === 'healthcheck' && shell.test, [
      'CMD-SHELL',
      'curl -f http://x/ || exit 1',
    ]);
    const none = only('healthcheck none');
    assert.equal(none.kind === 'healthcheck' && none.test, 'NONE');
  });

  test('ONBUILD nests a checked command, heredocs included', () => {
    const ob = only('ONBUILD COPY <<EOF /x\nhi\nEOF\n');
    assert.ok(ob.kind === 'onbuild');
    assert.equal(ob.trigger, 'COPY <<EOF /x');
    assert.ok(ob.command.kind === 'copy');
    assert.deepEqual(
      ob.command.heredocs.map((h) => h.content),
      ['hi\n'],
    );
  });

  test('the other instructions', () => {
    assert.deepEqual(only('SHELL ["/bin/sh", "-c"]'), {
      kind: 'shell',
      range: { start: { line: 2, col: 1 }, end: { line: 2, col: 23 } },
      source: 'SHELL ["/bin/sh", "-c"]',
      cmd: { form: 'exec', argv: ['/bin/sh', '-c'] },
    });
    const pick = (c: Command) =>
      'values' in c ? c.values : 'value' in c ? c.value : 'cmd' in c ? c.cmd : undefined;
    assert.deepEqual(pick(only('CMD echo hi')), { form: 'shell', line: 'echo hi' });
    assert.deepEqual(pick(only('ENTRYPOINT ["/bin/tini", "--"]')), {
      form: 'exec',
      argv: ['/bin/tini', '--'],
    });
    assert.deepEqual(pick(only('EXPOSE 80/tcp 443')), ['80/tcp', '443']);
    assert.deepEqual(pick(only('VOLUME ["/a", "/b"]')), ['/a', '/b']);
    assert.equal(pick(only('WORKDIR /my app')), '/my app');
    assert.equal(pick(only('USER app:app')), 'app:app');
    assert.equal(pick(only('STOPSIGNAL SIGTERM')), 'SIGTERM');
    assert.equal(pick(only('MAINTAINER me <me@x>')), 'me <me@x>');
    assert.deepEqual(only('ARG a b=2').kind === 'arg' && only('ARG a b=2'), {
      kind: 'arg',
      range: { start: { line: 2, col: 1 }, end: { line: 2, col: 9 } },
      source: 'ARG a b=2',
      args: [{ key: 'a' }, { key: 'b', value: '2' }],
    });
  });
});

describe('line scanner', () => {
  test('BOM and CRLF are transparent, heredoc bodies keep their CR', () => {
    const ast = parseDockerfile(
      new Uint8Array(Buffer.from('\ufeffFROM a\r\nRUN echo \\\r\n  b\r\nRUN <<E\r\nx\r\nE\r\n')),
    );
    assert.deepEqual(
      ast.nodes.map((n) => [n.keyword, n.args]),
      [
        ['FROM', ['a']],
        ['RUN', ['echo   b']],
        ['RUN', ['<<E']],
      ],
    );
    assert.equal(ast.nodes[2]?.heredocs[0]?.content, 'x\r\n');
  });

  test('directives: case-insensitive, only at the top, check is known, escape changes continuation', () => {
    const ast = parseDockerfile(
      '# Syntax = docker/dockerfile:1\n#CHECK=skip=all\n# escape=`\nFROM a\nRUN a `\n  b\\\n',
    );
    assert.deepEqual(ast.directives, { syntax: 'docker/dockerfile:1', check: 'skip=all', escape: '`' });
    assert.equal(ast.escape, '`');
    assert.deepEqual(ast.nodes[1]?.args, ['a   b\\']);
    const late = parseDockerfile('# foo=bar\n# escape=`\nFROM a\nRUN a `\n  b\n');
    assert.deepEqual(late.directives, {});
    assert.equal(late.nodes.length, 3);
  });

  test('comments and blank lines inside continuations; warnings for blank ones', () => {
    const ast = parseDockerfile('FROM a\n# about run\nRUN a \\\n# inside\n\n  b\n');
    assert.deepEqual(ast.nodes[1]?.args, ['a   b']);
    assert.deepEqual(ast.nodes[1]?.comments, ['about run']);
    assert.deepEqual(ast.nodes[1]?.range, { start: { line: 3, col: 1 }, end: { line: 6, col: 3 } });
    assert.equal(ast.warnings.length, 1);
    assert.equal(ast.warnings[0]?.range.start.line, 3);
  });

  test('several heredocs on one line are read in order; not in JSON form; not for other instructions', () => {
    const ast = parseDockerfile('FROM a\nCOPY <<A 3<<\'B\' /d\n1\nA\n2\nB\nRUN ["<<C"]\nUSER <<D\n');
    assert.deepEqual(
      ast.nodes[1]?.heredocs.map((h) => [h.name, h.content, h.fd, h.expand]),
      [
        ['A', '1\n', 0, true],
        ['B', '2\n', 3, false],
      ],
    );
    assert.deepEqual(ast.nodes[1]?.range, { start: { line: 2, col: 1 }, end: { line: 6, col: 1 } });
    assert.deepEqual(ast.nodes[2]?.heredocs, []);
    assert.deepEqual(ast.nodes[3]?.args, ['<<D']);
  });

  test('flag and argument positions point into the source', () => {
    const ast = parseDockerfile('FROM a\n  COPY \\\n   --from=b  x y\n');
    const node = ast.nodes[1];
    assert.deepEqual(node?.range.start, { line: 2, col: 3 });
    assert.deepEqual(node?.flagPositions, [{ line: 3, col: 4 }]);
    assert.deepEqual(node?.argsPosition, { line: 3, col: 14 });
  });
});

test('BuildKit accepts a RUN with no arguments and repeated stage names (issue 14, 7 and 8)', () => {
  const { stages } = toInstructions(parseDockerfile('FROM a AS x\nRUN\nFROM b AS X\n'));
  assert.deepEqual(
    stages.map((s) => s.name),
    ['x', 'x'],
  );
  const run = stages[0]?.commands[0];
  assert.equal(run?.kind, 'run');
  assert.deepEqual(run?.kind === 'run' ? run.cmd : undefined, { form: 'shell', line: '' });
});
