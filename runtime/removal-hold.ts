/**
 * A foreground `run --rm` (or `start -a` of an `--rm` container) must read the exit code before
 * the container goes, so while it is attached it holds the removal: `<dir>/removal-hold` names
 * the holding process (processes.ts ownerToken), and whoever else sees the container exit (the
 * monitor's exit command, `stop`, `kill`) leaves it to the holder. A holder killed with -9 holds
 * nothing: the name of a dead process is ignored.
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isOwnerAlive, ownerToken } from '../processes.ts';
import type { Container } from './container.ts';

function holdFile(container: Container): string {
  return join(container.dir, 'removal-hold');
}

/** Holds the container's `--rm` removal for this process; resolves with the release. */
export async function holdRemoval(container: Container): Promise<() => Promise<void>> {
  const file = holdFile(container);
  await writeFile(file, `${ownerToken()}-\n`);
  return () => rm(file, { force: true });
}

/** True while a live process holds the container's removal. */
export function isRemovalHeld(container: Container): boolean {
  let text: string;
  try {
    text = readFileSync(holdFile(container), 'utf8');
  } catch {
    return false;
  }
  return isOwnerAlive(text.trim()) === true;
}
