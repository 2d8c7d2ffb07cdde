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
