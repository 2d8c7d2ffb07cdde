import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { dumpDockerfile, ParseError, parseDockerfile, toInstructions } from '../../parser/index.ts';
import type { Command } from '../command.ts';

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
    let values: { file?: string; dump?: boolean; json?: boolean; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: ctx.argv,
        options: {
          file: { type: 'string', short: 'f' },
          dump: { type: 'boolean' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: false,
      }));
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e), {
        hint: "See 'tbuild parse --help'.",
      });
    }
    if (values.help) {
      ctx.stdout.write(usage.trimStart());
      return 0;
    }
    if (values.dump && values.json) {
      throw new UsageError('--dump and --json cannot be used together', {
        hint: "See 'tbuild parse --help'.",
      });
    }
    const file = values.file ?? 'Dockerfile';
    let bytes: Uint8Array;
    try {
      bytes = file === '-' ? await readAll(ctx.stdin) : await readFile(file);
    } catch (e) {
      throw new UsageError(`failed to read ${file}: ${e instanceof Error ? e.message : String(e)}`);
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
