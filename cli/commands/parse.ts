import { readFile } from 'node:fs/promises';
import { dumpDockerfile, ParseError, parseDockerfile, toInstructions } from '../../parser/index.ts';
import { pathError } from '../../user-paths.ts';
import type { Command } from '../command.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild parse [-f FILE] [--dump|--json]

Parse a Dockerfile and print it

Options:
  -f, --file string   Name of the Dockerfile, "-" for stdin (default "Dockerfile")
      --dump          Print the parse tree in BuildKit's dump format (default; no validation
                      beyond parsing, like BuildKit's parser)
      --json          Print the typed instructions, grouped into stages, as JSON
`;

/**
 * Renders a ParseError the way the CLI shows located errors: the message, the offending source
 * line with a caret under the column, then the hint.
 */
export function formatParseError(error: ParseError): string {
  let out = `ERROR: ${error.message}\n`;
  if (error.sourceLine !== '') {
    const gutter = String(error.line);
    const shown = error.sourceLine.replace(/\t/g, ' ');
    out += ` ${gutter} | ${shown}\n`;
    out += ` ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, error.col - 1))}^\n`;
  }
  if (error.hint) out += `hint: ${error.hint}\n`;
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** `tbuild parse`: parse a Dockerfile and print BuildKit's dump or the typed instructions. */
export const parseCommand: Command = {
  summary: 'Parse a Dockerfile and print its parse tree or typed instructions',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'parse',
      usage,
      options: {
        file: { type: 'string', short: 'f' },
        dump: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    if (values.dump && values.json)
      throw commandUsageError('parse', '--dump and --json cannot be used together');
    const file = values.file ?? 'Dockerfile';
    let bytes: Uint8Array;
    try {
      bytes = file === '-' ? await readAll(ctx.stdin) : await readFile(file);
    } catch (e) {
      // A usage error (125), as before: parse's only input is the file the user named.
      throw pathError(e, file, 'a Dockerfile (-f)', 125);
    }
    try {
      const ast = parseDockerfile(bytes, { file: file === '-' ? 'Dockerfile' : file });
      if (values.json) ctx.stdout.write(`${JSON.stringify(toInstructions(ast), null, 2)}\n`);
      else ctx.stdout.write(dumpDockerfile(ast));
      return 0;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      ctx.stderr.write(formatParseError(e));
      return e.exitCode;
    }
  },
};
