/**
 * `inspect`'s output, shared by the inspect commands (containers and images, networks, volumes):
 * the documents as a JSON array indented by 4, or each one through `--format` (docker-cli
 * cli/command/inspect/inspector.go: Go's missingkey=error; a template that does not parse exits 64).
 */
import { TbuildError } from '../errors.ts';
import { parseTemplate, type Template, TemplateError } from '../format/index.ts';
import type { CommandContext } from './command.ts';

/** The `--format` template, or undefined for the JSON array (no format, or an empty one). */
export function inspectTemplate(format: string | undefined): Template | undefined {
  if (format === undefined || format === '') return undefined;
  try {
    return parseTemplate(
      (format === 'json' ? '{{json .}}' : format).replaceAll('\\t', '\t').replaceAll('\\n', '\n'),
      { missingKey: 'error' },
    );
  } catch (error) {
    if (error instanceof TemplateError) throw new TbuildError(error.message, { exitCode: 64 });
    throw error;
  }
}

/** Writes the documents; the template sees each as JSON gives it (numbers, strings, maps, lists). */
export function writeInspected(
  ctx: CommandContext,
  documents: unknown[],
  template: Template | undefined,
): void {
  if (template === undefined) {
    ctx.stdout.write(`${JSON.stringify(documents, null, 4)}\n`);
    return;
  }
  for (const doc of documents) ctx.stdout.write(`${template.execute(JSON.parse(JSON.stringify(doc)))}\n`);
}

/**
 * The `network inspect` / `volume inspect` shape: each reference looked up in turn, the documents
 * found written, then one `Error: No such KIND: REF` line per reference `lookup` could not find
 * (it throws a `notFound` error for those); exit 1 when any was missing.
 */
export async function inspectEach(
  ctx: CommandContext,
  refs: string[],
  format: string | undefined,
  kind: string,
  lookup: (ref: string) => Promise<unknown> | unknown,
  notFound: (error: unknown) => boolean,
): Promise<number> {
  const template = inspectTemplate(format);
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await lookup(ref));
    } catch (error) {
      if (!notFound(error)) throw error;
      errors.push(`No such ${kind}: ${ref}`);
    }
  }
  writeInspected(ctx, found, template);
  for (const e of errors) ctx.stderr.write(`Error: ${e}\n`);
  return errors.length > 0 ? 1 : 0;
}
