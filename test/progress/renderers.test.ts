import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createPlainRenderer,
  createRawJsonRenderer,
  createTtyRenderer,
  type ProgressEvent,
} from '../../progress/index.ts';

/** A short build: a cached FROM, a RUN with output split across chunks, and a failing RUN. */
const events: ProgressEvent[] = [
  {
    type: 'vertex',
    digest: 'a',
    name: '[1/3] FROM docker.io/library/busybox:latest',
    started: 1000,
    completed: 1000,
    cached: true,
  },
  { type: 'vertex', digest: 'b', name: '[2/3] RUN echo hi', started: 1000 },
  { type: 'log', digest: 'b', stream: 1, data: 'h', time: 1100 },
  { type: 'log', digest: 'b', stream: 1, data: 'i\nsecond line\npart', time: 1215 },
  { type: 'vertex', digest: 'c', name: '[3/3] RUN exit 1', started: 1300 },
  { type: 'vertex', digest: 'b', name: '[2/3] RUN echo hi', completed: 1400 },
  { type: 'vertex', digest: 'c', name: '[3/3] RUN exit 1', completed: 1500, error: 'exit code: 1' },
  ...[1, 2].map(
    (): ProgressEvent => ({
      type: 'warning',
      message: 'NoEmptyContinuation: Empty continuation line (line 4)',
      location: 'Dockerfile:4',
      rule: 'NoEmptyContinuation',
      url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
    }),
  ),
  {
    type: 'warning',
    message: 'MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)',
  },
];

/** What buildx prints after the progress: the same warning twice is listed once; by line. */
const summary = [
  '',
  ' 2 warnings found (use docker --debug to expand):',
  ' - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)',
  ' - NoEmptyContinuation: Empty continuation line (line 4)',
];

function render(
  create: (write: (text: string) => void) => { sink: (e: ProgressEvent) => void; close(): void },
) {
  let out = '';
  const renderer = create((text) => {
    out += text;
  });
  for (const event of events) renderer.sink(event);
  renderer.close();
  return out;
}

describe('plain renderer', () => {
  test('prints BuildKit-style numbered steps, timed logs, and DONE/CACHED/ERROR', () => {
    assert.equal(
      render(createPlainRenderer),
      [
        '#1 [1/3] FROM docker.io/library/busybox:latest',
        '#1 CACHED',
        '',
        '#2 [2/3] RUN echo hi',
        '#2 0.215 hi',
        '#2 0.215 second line',
        '',
        '#3 [3/3] RUN exit 1',
        '',
        '#2 0.400 part',
        '#2 DONE 0.4s',
        '',
        '#3 ERROR: exit code: 1',
        ...summary,
        '',
      ].join('\n'),
    );
  });

  test('no warnings, no summary', () => {
    let out = '';
    const renderer = createPlainRenderer((text) => {
      out += text;
    });
    renderer.sink({ type: 'vertex', digest: 'x', name: 'step', started: 0, completed: 0, cached: true });
    renderer.close();
    assert.equal(out, '#1 step\n#1 CACHED\n');
  });

  test('one warning is "1 warning found"', () => {
    let out = '';
    const renderer = createPlainRenderer((text) => {
      out += text;
    });
    renderer.sink({ type: 'warning', message: 'X: y (line 1)' });
    renderer.close();
    assert.equal(out, '\n 1 warning found (use docker --debug to expand):\n - X: y (line 1)\n');
  });

  test('a vertex reported twice is announced once', () => {
    let out = '';
    const renderer = createPlainRenderer((text) => {
      out += text;
    });
    renderer.sink({ type: 'vertex', digest: 'x', name: 'step', started: 0 });
    renderer.sink({ type: 'vertex', digest: 'x', name: 'step', started: 0 });
    renderer.sink({ type: 'vertex', digest: 'x', name: 'step', completed: 2000 });
    renderer.sink({ type: 'vertex', digest: 'x', name: 'step', completed: 3000 });
    assert.equal(out, '#1 step\n#1 DONE 2.0s\n');
  });
});

describe('rawjson renderer', () => {
  test('writes each event as one JSON line that parses back to the event', () => {
    const lines = render(createRawJsonRenderer).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => JSON.parse(line)),
      events,
    );
  });
});

describe('tty renderer', () => {
  test('draws a final frame with the header, collapsed steps and the failing step tail', () => {
    let clock = 1000;
    const out = render((write) =>
      createTtyRenderer(write, { columns: 60, rows: 30, interval: 1e9, now: () => clock++ }),
    );
    const frame = out.split('\n');
    assert.match(frame[0] as string, /^\[\+\] Building \d+\.\ds \(3\/3\) FINISHED$/);
    assert.equal(frame[1], ` => CACHED [1/3] FROM docker.io/library/busybox:latest  0.0s`);
    assert.equal(frame[2], ` => [2/3] RUN echo hi${' '.repeat(35)}0.4s`);
    assert.equal(frame[3], ` => ERROR [3/3] RUN exit 1${' '.repeat(30)}0.2s`);
    // The warnings come once, below the last frame, the heading in yellow.
    assert.deepEqual(frame.slice(4), [
      '',
      ' \x1b[33m2 warnings found (use docker --debug to expand):',
      '\x1b[0m - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)',
      ' - NoEmptyContinuation: Empty continuation line (line 4)',
      '',
    ]);
    for (const line of frame.slice(0, 4)) assert.ok(line.length <= 60, `line too wide: ${line}`);
  });

  test('redraws in place and keeps the live log tail of running steps', () => {
    let out = '';
    const renderer = createTtyRenderer(
      (text) => {
        out += text;
      },
      { columns: 80, rows: 10, interval: 1e9, now: () => 5000 },
    );
    renderer.sink({ type: 'vertex', digest: 'r', name: '[1/1] RUN seq 20', started: 5000 });
    for (let i = 1; i <= 20; i++)
      renderer.sink({ type: 'log', digest: 'r', stream: 1, data: `${i}\n`, time: 5000 });
    renderer.close();
    const lines = out.split('\n');
    assert.deepEqual(
      lines.filter((line) => line.startsWith(' => => # ')),
      ['15', '16', '17', '18', '19', '20'].map((n) => ` => => # ${n}`),
    );
  });

  test('cuts the frame to the terminal height, keeping the header and the newest lines', () => {
    let out = '';
    const renderer = createTtyRenderer(
      (text) => {
        out += text;
      },
      { columns: 80, rows: 5, interval: 1e9, now: () => 0 },
    );
    for (let i = 1; i <= 10; i++)
      renderer.sink({ type: 'vertex', digest: `v${i}`, name: `step ${i}`, started: 0, completed: 0 });
    renderer.close();
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0] as string, /\(10\/10\) FINISHED/);
    assert.match(lines[3] as string, /step 10/);
  });
});
