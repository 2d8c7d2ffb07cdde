// `# syntax=`: BuildKit runs the frontend image it names. tbuild has one frontend, its own, which
// follows current docker/dockerfile 1.x (labs included); any other image gets one warning that it
// is not run, and the built-in frontend builds the file.
import type { ParsedDockerfile } from '../parser/index.ts';

/** docker/dockerfile (or -upstream) at 1, 1.x, 1.x.y, latest or labs, with or without -labs and a digest. */
const builtin =
  /^(?:docker\.io\/)?docker\/dockerfile(?:-upstream)?(?::(?:1(?:\.\d+){0,2}(?:-labs)?|latest|labs))?(?:@sha256:[0-9a-f]{64})?$/;

export interface SyntaxNote {
  /** The frontend image the directive names. */
  image: string;
  line: number;
  message: string;
}

/** The warning for a `# syntax=` that names another frontend, or undefined (none, or docker/dockerfile:1…). */
export function syntaxDirectiveNote(ast: ParsedDockerfile): SyntaxNote | undefined {
  const image = ast.directives.syntax?.trim();
  if (image === undefined || builtin.test(image)) return undefined;
  const index = ast.lines.findIndex((text) => /^\s*#\s*syntax\s*=/i.test(text));
  const line = index + 1;
  return {
    image,
    line,
    message: `${ast.file}:${line}: the syntax directive names frontend image ${JSON.stringify(image)}, which tbuild does not run: the built-in Dockerfile frontend builds this file`,
  };
}
