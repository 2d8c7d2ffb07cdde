// `build --call=check|outline|targets` (and `--check`): evaluate the build instead of running it,
// and print the result as buildx does (commands/build.go printResult, BuildKit's
// frontend/subrequests lint, outline and targets printers, solver/errdefs Source.Print), as text
// or, with `,format=json`, as the subrequest's result.json.
import { TbuildError } from '../errors.ts';
import {
  BuildError,
  type Checks,
  type CheckWarning,
  listTargets,
  type Outline,
  type OutlineOptions,
  type OutlineTarget,
  outlineTarget,
} from '../frontend/index.ts';
import type { Instructions, ParsedDockerfile } from '../parser/index.ts';

export interface CallRequest {
  /** BuildKit's request: `lint` for check. */
  name: 'lint' | 'outline' | 'targets';
  json: boolean;
  /** `ignorestatus=true`: exit 0 even when the check found something. */
  ignoreStatus: boolean;
}

/**
 * buildx parsePrintFunc: `NAME[,format=F][,ignorestatus=BOOL]` (CSV fields); `build` or nothing
 * is a normal build; `--check` is `--call=check`.
 */
export function parseCallFlag(value: string | undefined, check: boolean): CallRequest | undefined {
  const text = check ? 'check' : (value ?? '');
  if (text === '' || text === 'build') return undefined;
  let name = '';
  let json = false;
  let ignoreStatus = false;
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) {
      if (name !== '') throw new TbuildError(`invalid print value: ${text}`);
      name = field;
      continue;
    }
    const key = field.slice(0, eq);
    const v = field.slice(eq + 1);
    if (key === 'format') json = v === 'json';
    else if (key === 'ignorestatus') {
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v)) {
        throw new TbuildError(
          `invalid ignorestatus print value: ${v}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`,
        );
      }
      ignoreStatus = /^(1|t|T|TRUE|true|True)$/.test(v);
    } else throw new TbuildError(`invalid print field: ${field}`);
  }
  const request = name === 'check' ? 'lint' : name;
  if (request !== 'lint' && request !== 'outline' && request !== 'targets') {
    // The Dockerfile frontend's answer to a subrequest it does not know (dockerui HandleSubrequest).
    throw new TbuildError(`failed to solve: unsupported request frontend.${name}`);
  }
  return { name: request, json, ignoreStatus };
}

export interface Source {
  file: string;
  text: string;
}

/** `--call=targets` and `--call=outline`: answered from the instructions; undefined for a check. */
export function answerFromInstructions(
  call: CallRequest,
  source: Source,
  instructions: Instructions,
  ast: ParsedDockerfile,
  options: OutlineOptions,
  write: (text: string) => void,
): number | undefined {
  if (call.name === 'targets') printTargets(call, source, listTargets(instructions, ast), write);
  else if (call.name === 'outline')
    printOutline(call, source, outlineTarget(instructions, ast, options), write);
  else return undefined;
  return 0;
}

/**
 * `--call=check`: runs the conversion (`convert`, which dispatches the stages and their checks)
 * and prints the warnings, and the conversion's error if it failed, as the lint result.
 */
export async function answerCheck(
  call: CallRequest,
  source: Source,
  checks: Checks,
  convert: () => Promise<unknown>,
  write: (text: string) => void,
): Promise<number> {
  const failure = await convert().then(
    () => undefined,
    (error: unknown) => {
      if (!(error instanceof TbuildError)) throw error;
      const at = error instanceof BuildError ? error.location : undefined;
      if (at === undefined) return { message: error.message };
      return { message: error.message.slice(at.length + 2), line: Number(/:(\d+)/.exec(at)?.[1]) };
    },
  );
  return printCheck(call, source, checks.warnings, failure, write);
}

/**
 * `--call=check`: `Check complete, …`, each warning (`WARNING: Rule - URL`, the message, the
 * lines around it), sorted by line; then the build error, if the conversion failed. Returns the
 * exit code (1 when anything was found, unless ignorestatus); throws the build error as buildx
 * does (after the warnings), with its source lines.
 */
export function printCheck(
  call: CallRequest,
  source: Source,
  warnings: readonly CheckWarning[],
  error: { message: string; line?: number } | undefined,
  write: (text: string) => void,
): number {
  const sorted = [...warnings].sort((a, b) => a.location.line - b.location.line);
  if (call.json) {
    const result: Record<string, unknown> = {
      warnings: sorted.map((w) => ({
        ruleName: w.rule,
        description: w.description,
        url: w.url,
        detail: w.message,
        location: { ranges: [lines(w.location.line, w.location.endLine)] },
      })),
      sources: [{ filename: source.file, language: 'Dockerfile', data: base64(source.text) }],
    };
    if (error) {
      result.buildError = {
        message: error.message,
        location: error.line === undefined ? {} : { ranges: [lines(error.line, error.line)] },
      };
    }
    write(`${goJson(result)}\n`);
  } else {
    if (sorted.length > 0) {
      const count =
        sorted.length === 1 ? '1 warning has been found!' : `${sorted.length} warnings have been found!`;
      write(`Check complete, ${count}\n`);
    }
    for (const w of sorted) {
      write(`\nWARNING: ${w.rule}${w.url ? ` - ${w.url}` : ''}\n${w.message}\n`);
      write(sourceExcerpt(source, w.location.line, w.location.endLine));
    }
    if (error === undefined && sorted.length === 0) write('Check complete, no warnings found.\n');
    if (error && sorted.length > 0) write('\n');
  }
  if (error) {
    const excerpt = error.line === undefined ? '' : sourceExcerpt(source, error.line, error.line);
    throw new TbuildError(`${error.message}${excerpt ? `\n${excerpt.trimEnd()}` : ''}`);
  }
  return sorted.length > 0 && !call.ignoreStatus ? 1 : 0;
}

/** `--call=outline`: the target, its build args, secrets and SSH agents, in tables. */
export function printOutline(
  call: CallRequest,
  source: Source,
  outline: Outline,
  write: (text: string) => void,
): void {
  if (call.json) {
    const result: Record<string, unknown> = {};
    if (outline.name !== undefined) result.name = outline.name;
    if (outline.description !== undefined) result.description = outline.description;
    if (outline.args.length > 0) {
      result.args = outline.args.map((a) => ({
        name: a.name,
        ...(a.description ? { description: a.description } : {}),
        ...(a.value ? { value: a.value } : {}),
        location: { ranges: [lines(a.line, a.line)] },
      }));
    }
    for (const kind of ['secrets', 'ssh'] as const) {
      if (outline[kind].length > 0) {
        result[kind] = outline[kind].map((s) => ({
          name: s.name,
          ...(s.required ? { required: true } : {}),
          location: { ranges: [lines(s.line, s.line)] },
        }));
      }
    }
    result.sources = [base64(source.text)];
    write(`${goJson(result)}\n`);
    return;
  }
  if (outline.name !== undefined || outline.description !== undefined) {
    const rows = [['TARGET:', outline.name ?? '(default)']];
    if (outline.description) rows.push(['DESCRIPTION:', outline.description]);
    write(`${tabulate(rows, 1)}\n`);
  }
  if (outline.args.length > 0) {
    const rows = outline.args.map((a) => [a.name, a.value ?? '', a.description ?? '']);
    write(`${tabulate([['BUILD ARG', 'VALUE', 'DESCRIPTION'], ...rows], 3)}\n`);
  }
  if (outline.secrets.length > 0) {
    const rows = outline.secrets.map((s) => [s.name, s.required ? 'true' : '']);
    write(`${tabulate([['SECRET', 'REQUIRED'], ...rows], 3)}\n`);
  }
  if (outline.ssh.length > 0) {
    const rows = outline.ssh.map((s) => [s.name, s.required ? 'true' : '']);
    write(`${tabulate([['SSH', 'REQUIRED'], ...rows], 3)}\n`);
  }
}

/** `--call=targets`: every stage, the default marked, with its description. */
export function printTargets(
  call: CallRequest,
  source: Source,
  targets: readonly OutlineTarget[],
  write: (text: string) => void,
): void {
  if (call.json) {
    const result = {
      targets: targets.map((t) => ({
        ...(t.name ? { name: t.name } : {}),
        ...(t.default ? { default: true } : {}),
        ...(t.description ? { description: t.description } : {}),
        base: t.base,
        ...(t.platform ? { platform: t.platform } : {}),
        location: { ranges: [lines(t.line, t.line)] },
      })),
      sources: [base64(source.text)],
    };
    write(`${goJson(result)}\n`);
    return;
  }
  const rows = targets.map((t) => {
    const name =
      t.name === undefined ? (t.default ? '(default)' : '') : t.default ? `${t.name} (default)` : t.name;
    return [name, t.description ?? ''];
  });
  write(tabulate([['TARGET', 'DESCRIPTION'], ...rows], 1));
}

/**
 * The Dockerfile lines around `start`-`end`, as BuildKit's errdefs Source.Print: two lines of
 * context each side of a one-line range, one of a longer one, the range marked `>>>`.
 */
export function sourceExcerpt(source: Source, start: number, end: number): string {
  const all = source.text.split('\n');
  if (start < 1 || start > all.length) return '';
  let last = Math.min(Math.max(start, end), all.length);
  let first = start;
  const pad = last === first ? 4 : 2;
  for (let p = 0; p < pad; ) {
    if (first > 1) {
      first--;
      p++;
    }
    if (last !== all.length) {
      last++;
      p++;
    }
    p++;
  }
  let out = `${source.file}:${start}\n--------------------\n`;
  for (let i = first; i <= last; i++) {
    const mark = i >= start && i <= Math.max(start, end) ? '>>>' : '   ';
    out += ` ${String(i).padStart(3)} | ${mark} ${all[i - 1]}\n`;
  }
  return `${out}--------------------\n`;
}

/** Go's text/tabwriter with minwidth 0 and the given padding: every cell but the last aligned. */
function tabulate(rows: string[][], padding: number): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Array.from(cell).length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < row.length - 1 ? cell.padEnd((widths[i] as number) + padding) : cell))
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

function lines(start: number, end: number) {
  return { start: { line: start }, end: { line: Math.max(start, end) } };
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** json.MarshalIndent with two spaces, and Go's escaping of <, > and & in strings. */
function goJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026');
}
