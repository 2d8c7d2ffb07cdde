/**
 * `--env-file` (run, create, exec): Docker's format, read as the docker CLI reads it
 * (cli opts/file.go parseKeyValueFile): one `NAME=VALUE` a line, the value taken as it is (no
 * quote processing, no trimming); a line with a name alone takes the host's value (and is kept
 * bare when the host has none, which then unsets the name); leading white space is dropped,
 * empty lines and lines starting with `#` are skipped, a UTF-8 BOM at the start of the file is
 * dropped, lines end at `\n` with an optional `\r` before it. The files' entries come before
 * the `-e` values, which therefore win.
 */
import { readFile } from 'node:fs/promises';
import { TbuildError } from '../errors.ts';

/** Go's unicode.IsSpace, which the docker CLI trims with (not JavaScript's \s, which has U+FEFF). */
const space = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const leadingSpace = new RegExp(`^[${space}]+`);
const trailingSpace = new RegExp(`[${space}]+$`);

/** Parses one env file's text; `name` is for messages. Throws a TbuildError (exit 1). */
export function parseEnvFile(
  text: Buffer,
  name: string,
  hostEnv: Readonly<Record<string, string | undefined>>,
): string[] {
  const out: string[] = [];
  let lines = splitLines(text);
  if (lines[0] && lines[0][0] === 0xef && lines[0][1] === 0xbb && lines[0][2] === 0xbf) {
    lines = [lines[0].subarray(3), ...lines.slice(1)];
  }
  lines.forEach((bytes, index) => {
    const decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let raw: string;
    try {
      raw = decoded.decode(bytes);
    } catch {
      throw new TbuildError(
        `env file ${name} contains invalid utf8 bytes at line ${index + 1}: [${[...bytes].join(' ')}]`,
      );
    }
    const line = raw.replace(leadingSpace, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const variable = (eq < 0 ? line : line.slice(0, eq)).replace(/^[ \t]+/, '');
    if (/[ \t]/.test(variable)) {
      throw new TbuildError(`poorly formatted environment: variable '${variable}' contains whitespaces`);
    }
    if (variable === '') {
      throw new TbuildError(`poorly formatted environment: no variable name on line '${line}'`);
    }
    if (eq >= 0) {
      out.push(`${variable}=${line.slice(eq + 1)}`);
      return;
    }
    const bare = line.replace(trailingSpace, '');
    const value = hostEnv[line];
    out.push(value === undefined ? bare : `${bare}=${value}`);
  });
  return out;
}

/** bufio.ScanLines: split at `\n`, a `\r` before it dropped, no empty last line. */
function splitLines(text: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(10, start);
    const next = end < 0 ? text.length : end + 1;
    if (end < 0) end = text.length;
    lines.push(text.subarray(start, end > start && text[end - 1] === 13 ? end - 1 : end));
    start = next;
  }
  return lines;
}

/** The entries of every file, in order; an unreadable file is Go's `open PATH: reason`. */
export async function readEnvFiles(
  files: readonly string[],
  hostEnv: Readonly<Record<string, string | undefined>> = process.env,
): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const text = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      // Go opens a directory and fails at the read.
      throw new TbuildError(`${error.code === 'EISDIR' ? 'read' : 'open'} ${file}: ${goErrno(error)}`);
    });
    out.push(...parseEnvFile(text, file, hostEnv));
  }
  return out;
}

function goErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return error.message;
  }
}
