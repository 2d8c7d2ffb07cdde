import { isNoSpaceError, noSpaceMessage } from '../../errors.ts';
import { StepError } from '../errors.ts';
import type { Vertex } from '../graph.ts';

/** The error's message; a full disk in the root's words when `root` is given (issue 12, finding 9). */
export function errorText(error: unknown, root?: string): string {
  if (root !== undefined && isNoSpaceError(error)) return noSpaceMessage(root);
  return error instanceof Error ? error.message : String(error);
}

/**
 * A root filesystem that could not be mounted fails the step that needed it, so the error names
 * the step and its Dockerfile line like any other step failure.
 */
export function rootfsError(vertex: Vertex, error: unknown, root: string): StepError {
  if (isNoSpaceError(error))
    return new StepError(vertex.name, vertex.location, noSpaceMessage(root), [], error);
  return new StepError(
    vertex.name,
    vertex.location,
    `mounting the root filesystem: ${errorText(error)}`,
    [],
    error,
  );
}
