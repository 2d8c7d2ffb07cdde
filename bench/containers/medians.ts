/**
 * medians.ts RAW.tsv [UNIT]: the tables of the container benches (run.sh, ports.sh) from their
 * samples. RAW.tsv has a header and the columns rep, engine, metric, value, load (the 1-minute load
 * average when that engine's repetition began). Prints, as markdown:
 *   - per repetition and engine: the load and each metric's median, so a reader can keep the
 *     repetition with the lowest load (the machine is shared; absolute numbers move with it);
 *   - over all repetitions: each metric's median per engine and tbuild's median over each peer's.
 * Run: node --import tsx bench/containers/medians.ts RAW.tsv ms
 */
import { readFileSync } from 'node:fs';

type Sample = { rep: string; engine: string; metric: string; value: number; load: string };

function parse(text: string): Sample[] {
  const [header, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
  if (header !== 'rep\tengine\tmetric\tvalue\tload') throw new Error(`unexpected header: ${header}`);
  return lines.map((line) => {
    const [rep = '', engine = '', metric = '', value = '', load = ''] = line.split('\t');
    return { rep, engine, metric, value: Number(value), load };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** First-seen order, so tables follow the order the bench ran things in. */
function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function medianOf(samples: Sample[], keep: (s: Sample) => boolean): number | undefined {
  const values = samples.filter(keep).map((s) => s.value);
  return values.length > 0 ? median(values) : undefined;
}

function table(samples: Sample[], unit: string): string {
  const engines = distinct(samples.map((s) => s.engine));
  const metrics = distinct(samples.map((s) => s.metric));
  const reps = distinct(samples.map((s) => s.rep));
  const peers = engines.filter((e) => e !== 'tbuild');
  const out: string[] = [];

  out.push(`Per repetition (median ${unit}; load = 1-min load average when the engine's turn began):`, '');
  out.push(
    `| rep | engine | load | ${metrics.join(' | ')} |`,
    `|---|---|---|${metrics.map(() => '---|').join('')}`,
  );
  for (const rep of reps) {
    for (const engine of engines) {
      const mine = samples.filter((s) => s.rep === rep && s.engine === engine);
      if (mine.length === 0) continue;
      const cells = metrics.map((m) => {
        const v = medianOf(mine, (s) => s.metric === m);
        return v === undefined ? '-' : fmt(v);
      });
      out.push(`| ${rep} | ${engine} | ${mine[0]!.load} | ${cells.join(' | ')} |`);
    }
  }

  out.push('', `All repetitions (median ${unit}; tbuild/peer is tbuild's median over the peer's):`, '');
  const ratioHeads = peers.map((p) => `tbuild/${p}`);
  out.push(
    `| metric | ${engines.join(' | ')} | ${ratioHeads.join(' | ')} |`,
    `|---|${engines.map(() => '---|').join('')}${peers.map(() => '---|').join('')}`,
  );
  for (const metric of metrics) {
    const med = new Map(
      engines.map((e) => [e, medianOf(samples, (s) => s.engine === e && s.metric === metric)]),
    );
    const t = med.get('tbuild');
    const cells = engines.map((e) => {
      const v = med.get(e);
      return v === undefined ? '-' : fmt(v);
    });
    const ratios = peers.map((p) => {
      const v = med.get(p);
      return t === undefined || v === undefined || v === 0 ? '-' : (t / v).toFixed(2);
    });
    out.push(`| ${metric} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  return out.join('\n');
}

const [file, unit = 'ms'] = process.argv.slice(2);
if (!file) {
  console.error('usage: medians.ts RAW.tsv [UNIT]');
  process.exit(2);
}
console.log(table(parse(readFileSync(file, 'utf8')), unit));
