// format/go-template.ts: Go text/template's behaviour on Docker's documented --format uses, as a
// table of template, data → output or error (the expected texts are what docker 20.10 prints for
// the same templates, where Docker shows them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatRows, parseTemplate, TemplateError, type TemplateOptions } from '../../format/index.ts';

const image = {
  Os: 'linux',
  Size: 1984240,
  Config: { Cmd: ['sh'], Env: ['PATH=/bin', 'A=1'], Labels: { b: '2', a: '1' } },
  RootFS: { Layers: ['sha256:0d6d'] },
};

const rows: [string, unknown, string, TemplateOptions?][] = [
  ['{{.Os}}', image, 'linux'],
  ['{{.Config.Cmd}}', image, '[sh]'],
  ['{{json .Config.Env}}', image, '["PATH=/bin","A=1"]'],
  ['{{json .}}', { D: '<none>', E: 'a&b' }, '{"D":"<none>","E":"a&b"}'],
  ['{{.Size}}', image, '1984240'],
  ['{{.Config.Labels}}', image, 'map[a:1 b:2]'],
  ['{{range .Config.Env}}[{{.}}]{{end}}', image, '[PATH=/bin][A=1]'],
  ['{{range $i, $e := .Config.Env}}{{$i}}={{$e}} {{end}}', image, '0=PATH=/bin 1=A=1 '],
  ['{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}},{{end}}', image, 'a:1,b:2,'],
  ['{{range .Nope}}x{{else}}none{{end}}', { Nope: [] }, 'none'],
  ['{{index .Config.Env 1}} {{index .Config.Labels "b"}}', image, 'A=1 2'],
  ['{{join .Config.Env ","}}', image, 'PATH=/bin,A=1'],
  ['{{upper .Os}} {{lower "ABC"}} {{title "hello world"}}', image, 'LINUX abc Hello World'],
  ['{{.Os | upper | printf "<%s>"}}', image, '<LINUX>'],
  ['{{len .Config.Env}} {{(index .Config.Env 0) | len}}', image, '2 9'],
  ['{{if eq .Os "linux"}}L{{else if eq .Os "windows"}}W{{else}}?{{end}}', image, 'L'],
  ['{{if eq .Os "plan9"}}L{{else if eq .Os "linux"}}W{{else}}?{{end}}', image, 'W'],
  ['{{if and .Os (not .Missing)}}yes{{end}}', { Os: 'x', Missing: '' }, 'yes'],
  ['{{with .Config}}{{.Cmd}}{{end}}{{with .Nil}}x{{else}}-{{end}}', { ...image, Nil: null }, '[sh]-'],
  ['{{println .Os}}{{print "a" "b" 1 2}}', image, 'linux\nab1 2'],
  ['{{printf "%s-%d|%5s|%-3s|" .Os 7 "ab" "c"}}', image, 'linux-7|   ab|c  |'],
  ['{{$x := .Os}}{{$x}} {{$.Os}}', image, 'linux linux'],
  ['a {{- " b " -}} c', {}, 'a b c'],
  ['a{{/* a comment */}}b', {}, 'ab'],
  ['{{.Missing}}', {}, '<no value>'],
  ['{{.Label "k"}}', { Label: (k: string) => `label ${k}` }, 'label k'],
  ['{{truncate .Os 3}}|{{pad .Os 1 2}}|{{split "a,b" ","}}', image, 'lin| linux  |[a b]'],
  ['{{lt 1 2}} {{ge "b" "a"}} {{ne .Os "x"}} {{or "" "y"}}', image, 'true true true y'],
  [
    '{{.Foo}}',
    {},
    'template parsing error: template: :1:2: executing "" at <.Foo>: map has no entry for key "Foo"',
    { missingKey: 'error' },
  ],
  [
    '{{.Config.Foo.Bar}}',
    image,
    'template parsing error: template: :1:9: executing "" at <.Config.Foo.Bar>: map has no entry for key "Foo"',
    { missingKey: 'error' },
  ],
  [
    '{{.Foo}}',
    {},
    'template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext',
    { structType: '*formatter.imageContext' },
  ],
  ['{{.Foo', {}, 'template parsing error: template: :1: unclosed action'],
  ['{{end}}', {}, 'template parsing error: template: :1: unexpected {{end}}'],
  ['{{if .X}}', {}, 'template parsing error: template: :1: unexpected EOF'],
  ['{{nosuch .X}}', {}, 'template parsing error: template: :1: function "nosuch" not defined'],
];

for (const [template, data, want, options] of rows) {
  test(`${template} → ${JSON.stringify(want).slice(0, 60)}`, () => {
    let got: string;
    try {
      got = parseTemplate(template, options).execute(data);
    } catch (error) {
      assert.ok(error instanceof TemplateError, String(error));
      got = error.message;
    }
    assert.equal(got, want);
  });
}

test('a parse error and an execution error are told apart (docker inspect: 64 and 1)', () => {
  assert.throws(
    () => parseTemplate('{{.X'),
    (e: TemplateError) => e.phase === 'parse',
  );
  const t = parseTemplate('{{.X}}', { missingKey: 'error' });
  assert.throws(
    () => t.execute({}),
    (e: TemplateError) => e.phase === 'exec',
  );
});

test('table: a header from the headers, columns aligned as tabwriter, \\t escapes', () => {
  const out = formatRows(
    [
      { Repository: 'b1', Tag: 'latest', Size: '1.98MB' },
      { Repository: 'busybox', Tag: 'latest', Size: '1.98MB' },
    ],
    {
      format: 'table {{.Repository}}\\t{{.Tag}}\\t{{.Size}}',
      headers: { Repository: 'REPOSITORY', Tag: 'TAG', Size: 'SIZE' },
    },
  );
  // What docker 20.10 printed for `docker images --format 'table {{.Repository}}\t{{.Tag}}\t{{.Size}}'`.
  assert.equal(
    out,
    'REPOSITORY   TAG       SIZE\nb1           latest    1.98MB\nbusybox      latest    1.98MB\n',
  );
  assert.equal(formatRows([{ A: 1 }, { A: 2 }], { format: '{{.A}}', headers: {} }), '1\n2\n');
  assert.equal(formatRows([], { format: 'table {{.A}}', headers: { A: 'AY' } }), 'AY\n');
  // The header run: methods and Docker's functions give the field's header (templates.HeaderFunctions).
  const withFunctions = formatRows([{ Names: 'web', Label: (k: string) => `v-${k}` }], {
    format: 'table {{upper .Names}}\t{{json .Names}}\t{{.Label "x"}}',
    headers: { Names: 'NAMES', Label: 'LABEL' },
  });
  assert.equal(withFunctions, 'NAMES     NAMES     LABEL\nWEB       "web"     v-x\n');
});
