// Golden tests of the frontend (issue 11, item 5): a Dockerfile, with build args, a target, fake
// base-image configs and the like, goes through the parser and `convert`, and the graph's text dump
// (solver dumpGraph), the image config and the history must equal the case's `expected.txt`.
// Pure: no root, no runc, no store; every case runs in milliseconds.
//
//   test/frontend/golden/<case>/Dockerfile     the Dockerfile (`Dockerfile.txt` is not used)
//   test/frontend/golden/<case>/args.json      optional: see GoldenArgs
//   test/frontend/golden/<case>/expected.txt   what the frontend makes of it (or its error)
//
// UPDATE_GOLDEN=1 rewrites every expected.txt from the current code: review each change by hand
// against Docker/BuildKit behaviour before committing it (a golden that records a bug is a bug).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { convert, type ResolvedImage } from '../../frontend/index.ts';
import { type ContainerConfig, type History, normalizeTag } from '../../image/index.ts';
import { parseDockerfile, toInstructions } from '../../parser/index.ts';
import { canonicalJson, type Digest, dumpGraph } from '../../solver/index.ts';

const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

/** A case's `args.json`; every field is optional. */
interface GoldenArgs {
  buildArgs?: Record<string, string>;
  target?: string;
  /** `--label`s. */
  labels?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
  /** `--no-cache-filter`. */
  noCacheStages?: string[];
  /** The context's .dockerignore patterns. */
  contextExcludes?: string[];
  /**
   * Base images the case may name, by reference as written (normalised like the store does),
   * added to the default `busybox`. Each is the image's `config` section, plus optional `history`,
   * `author` and `os`/`architecture`.
   */
  images?: Record<string, FakeImage>;
}

interface FakeImage {
  config: ContainerConfig;
  history?: History[];
  author?: string;
}

/** busybox as fixtures/make-busybox-image.sh makes it. */
const busybox: FakeImage = {
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
  history: [{ created: '2020-01-01T00:00:00Z', created_by: 'busybox fixture' }],
};

const created = '2024-01-01T00:00:00Z';

async function render(dir: string): Promise<string> {
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  const argsPath = join(dir, 'args.json');
  const args: GoldenArgs = existsSync(argsPath) ? JSON.parse(readFileSync(argsPath, 'utf8')) : {};
  const images = new Map<string, FakeImage>([[normalizeTag('busybox'), busybox]]);
  for (const [ref, image] of Object.entries(args.images ?? {})) images.set(normalizeTag(ref), image);
  const looked: string[] = [];
  try {
    const ast = parseDockerfile(text, { file: 'Dockerfile' });
    const definition = await convert(toInstructions(ast), {
      file: 'Dockerfile',
      escape: ast.escape,
      ...(args.target !== undefined ? { target: args.target } : {}),
      buildArgs: args.buildArgs ?? {},
      labels: args.labels ?? {},
      platform: args.platform ?? { os: 'linux', architecture: 'amd64' },
      context: { dir: '/context', excludes: args.contextExcludes ?? [] },
      noCacheStages: args.noCacheStages ?? [],
      created,
      resolveImage: async (ref, at): Promise<ResolvedImage> => {
        const normal = normalizeTag(ref);
        looked.push(`${ref} (${at})`);
        const image = images.get(normal);
        if (!image) throw new Error(`base image "${ref}" is not one of the case's images`);
        return {
          ref: normal,
          manifest: `sha256:${createHash('sha256').update(normal).digest('hex')}` as Digest,
          config: {
            architecture: 'amd64',
            os: 'linux',
            config: image.config,
            rootfs: { type: 'layers', diff_ids: [] },
            ...(image.history ? { history: image.history } : {}),
            ...(image.author !== undefined ? { author: image.author } : {}),
          },
        };
      },
    });
    const ids = new Map<Digest, number>();
    const graph = dumpGraph(definition.root, ids);
    const history = definition.history.map(({ entry, step }) => {
      const made = step === undefined ? '' : ` -> ${ids.has(step) ? ids.get(step) : `unknown step ${step}`}`;
      const empty = entry.empty_layer ? ' (empty)' : '';
      return `${JSON.stringify(entry.created_by)}${empty}${made}`;
    });
    return [
      `# stage: ${definition.stage}`,
      '# base images looked up',
      ...(looked.length === 0 ? ['  none'] : looked.map((l) => `  ${l}`)),
      '# graph',
      graph.trimEnd(),
      '# image config',
      pretty(definition.config),
      '# history',
      ...history,
      '',
    ].join('\n');
  } catch (error) {
    const e = error as Error & { hint?: string };
    return `# error\n${e.name}: ${e.message}\n${e.hint === undefined ? '' : `hint: ${e.hint}\n`}`;
  }
}

/** Canonical (sorted keys) JSON, indented two spaces. */
function pretty(value: unknown): string {
  return JSON.stringify(JSON.parse(canonicalJson(value)), null, 2);
}

const cases = readdirSync(casesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

test('there are at least 30 golden cases', () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
});

for (const name of cases) {
  test(`golden: ${name}`, async () => {
    const dir = join(casesDir, name);
    const actual = await render(dir);
    const expectedPath = join(dir, 'expected.txt');
    if (update) writeFileSync(expectedPath, actual);
    assert.ok(existsSync(expectedPath), `${expectedPath} is missing: run with UPDATE_GOLDEN=1 and review it`);
    assert.equal(actual, readFileSync(expectedPath, 'utf8'));
  });
}
