import { TbuildError } from '../errors.ts';
import { StepError } from '../solver/index.ts';

/**
 * What `docker build` prints above the final `ERROR:` line of a failed step (BuildKit's
 * progress-ui error output): the step's last output lines in a box, then the Dockerfile lines of
 * the failing instruction marked `>>>`, with up to two lines of context either side.
 * Returns '' when the error carries neither.
 */
export function formatBuildFailure(error: unknown, dockerfile: string): string {
  if (!(error instanceof TbuildError)) return '';
  let out = '';
  if (error instanceof StepError && error.logTail.length > 0) {
    out += `------\n > ${error.step}:\n${error.logTail.map((line) => `${line}\n`).join('')}------\n`;
  }
  const location = (error as { location?: unknown }).location;
  const match = typeof location === 'string' ? /^(.*):(\d+)(?:-(\d+))?$/.exec(location) : null;
  if (match) {
    const lines = dockerfile.split(/\r?\n/);
    const first = Number(match[2]);
    const last = match[3] === undefined ? first : Number(match[3]);
    const from = Math.max(1, first - 2);
    const to = Math.min(lines.length, last + 2);
    const width = String(to).length + 3;
    out += `${location}\n--------------------\n`;
    for (let n = from; n <= to; n++) {
      const text = lines[n - 1] ?? '';
      if (n > last && text === '' && n === lines.length) break;
      out += `${String(n).padStart(width)} | ${n >= first && n <= last ? '>>>' : '   '} ${text}\n`;
    }
    out += '--------------------\n';
  }
  return out;
}
