// Parser throughput: a generated 10,000-instruction Dockerfile (about 1 MB) with a realistic mix of
// instructions, parsed (AST) and converted to typed instructions. Warm-up first, then the median
// of several timed runs. Run: node --import tsx bench/parse.ts
import { performance } from 'node:perf_hooks';
import { parseDockerfile, toInstructions } from '../parser/index.ts';

/** Deterministic pseudo-random numbers so every run parses the same text. */
function makeRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function generate(instructions: number): string {
  const rand = makeRandom(42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const pkgs = ['curl', 'ca-certificates', 'git', 'build-essential', 'python3', 'libssl-dev', 'jq', 'unzip'];
  const out: string[] = ['# syntax=docker/dockerfile:1', 'ARG BASE=debian:12-slim'];
  let n = 1;
  let stage = 0;
  while (n < instructions) {
    out.push(`FROM --platform=$BUILDPLATFORM \${BASE} AS stage${stage++}`, '');
    n++;
    for (let k = 0; k < 40 && n < instructions; k++, n++) {
      const r = rand();
      if (r < 0.3) {
        const list = Array.from({ length: 6 }, () => pick(pkgs)).join(' ');
        out.push(
          '# install the build dependencies',
          'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\',
          `    apt-get update && apt-get install -y --no-install-recommends ${list} \\`,
          '    && rm -rf /var/lib/apt/lists/*',
        );
      } else if (r < 0.45) {
        out.push(`COPY --chown=app:app --chmod=0644 src/module${k}/ /app/src/module${k}/`);
      } else if (r < 0.55) {
        out.push(`ENV APP_HOME=/app PATH="/app/bin:$PATH" LANG=C.UTF-8 STAGE_${k}=value${k}`);
      } else if (r < 0.62) {
        out.push(
          `LABEL org.opencontainers.image.title="module ${k}" org.opencontainers.image.version="1.${k}.0"`,
        );
      } else if (r < 0.7) {
        out.push(`CMD ["/app/bin/server", "--port", "80${k % 10}", "--verbose"]`);
      } else if (r < 0.75) {
        out.push('RUN <<EOF', 'set -eux', `echo building module ${k}`, 'make -j4 all', 'EOF');
      } else if (r < 0.8) {
        out.push('WORKDIR /app', `USER app:${1000 + k}`);
        n++;
      } else if (r < 0.85) {
        out.push(`ARG VERSION_${k}=1.2.${k}`, `EXPOSE 80${k % 10}/tcp 443`);
        n++;
      } else if (r < 0.9) {
        out.push(
          'HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD curl -f http://localhost/ || exit 1',
        );
      } else if (r < 0.95) {
        out.push(`ADD --checksum=sha256:${'ab'.repeat(32)} https://example.com/file${k}.tar.gz /tmp/`);
      } else {
        out.push(`ENTRYPOINT ["/usr/bin/tini", "--"]`, `VOLUME ["/data/${k}"]`);
        n++;
      }
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const text = generate(10_000);
const bytes = Buffer.byteLength(text);
const ast = parseDockerfile(text);
const typed = toInstructions(ast);
const time = (fn: () => void): number => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (let i = 0; i < 5; i++) toInstructions(parseDockerfile(text));
const parseRuns = Array.from({ length: 9 }, () => time(() => parseDockerfile(text)));
const fullRuns = Array.from({ length: 9 }, () => time(() => toInstructions(parseDockerfile(text))));
const mb = bytes / 1e6;
const report = (label: string, ms: number): string =>
  `${label.padEnd(28)} ${ms.toFixed(1).padStart(7)} ms  ${(mb / (ms / 1000)).toFixed(1).padStart(6)} MB/s`;
console.log(
  `input: ${ast.nodes.length} instructions, ${typed.stages.length} stages, ${(bytes / 1024).toFixed(0)} KiB`,
);
console.log(report('parseDockerfile (median/9)', median(parseRuns)));
console.log(report('+ toInstructions (median/9)', median(fullRuns)));
