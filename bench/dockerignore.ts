// Walks a generated 20,000-file context with ~10 typical .dockerignore patterns and prints the
// time. Run: node --import tsx bench/dockerignore.ts
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDockerignore, scanContext } from '../frontend/index.ts';

const patterns = [
  '.git',
  'node_modules',
  '**/*.log',
  '**/*.tmp',
  'dist/**',
  '*.md',
  '!README.md',
  'build',
  '!build/keep/**',
  'src/**/test_*.py',
];

function generateTree(root: string, files: number): void {
  const tops = ['src', 'lib', 'node_modules', 'build', 'dist', 'docs', '.git', 'assets'];
  let made = 0;
  for (let d = 0; made < files; d++) {
    const dir = join(root, tops[d % tops.length] as string, `pkg${d}`, d % 3 === 0 ? 'keep' : 'sub');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 50 && made < files; f++, made++) {
      const ext = ['ts', 'log', 'py', 'tmp', 'md', 'json'][f % 6] as string;
      const name = f % 7 === 0 ? `test_${f}.${ext}` : `file${f}.${ext}`;
      writeFileSync(join(dir, name), '');
    }
  }
}

const root = mkdtempSync(join(tmpdir(), 'tbuild-bench-'));
try {
  generateTree(root, 20_000);
  const matcher = compileDockerignore(patterns);
  for (let run = 1; run <= 3; run++) {
    const start = performance.now();
    const kept = scanContext(root, matcher).length;
    const ms = performance.now() - start;
    console.log(
      `walk ${run}: 20000 files, ${patterns.length} patterns, ${kept} entries kept, ${ms.toFixed(1)} ms`,
    );
  }
  const paths: string[] = [];
  for (let i = 0; i < 20_000; i++) paths.push(`src/pkg${i % 400}/sub/file${i}.ts`);
  const start = performance.now();
  let excluded = 0;
  for (const p of paths) if (matcher.matches(p)) excluded++;
  console.log(
    `path-level matches(): 20000 paths, ${excluded} excluded, ${(performance.now() - start).toFixed(1)} ms`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
