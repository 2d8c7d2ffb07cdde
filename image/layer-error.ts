import { TbuildError } from '../errors.ts';

/**
 * A layer tar that cannot be packed or applied safely: an entry that would escape the target
 * directory (`..`, a NUL in a name, a hardlink to a missing or outside path), an unsupported entry
 * type, or a filesystem failure while writing one entry. `entry` is the entry's name as it appears
 * in the archive (or the source path while packing), and the message always names it.
 */
export class LayerError extends TbuildError {
  /** The offending tar entry name (or source path), verbatim. */
  readonly entry: string;

  constructor(entry: string, reason: string, options: { hint?: string; cause?: unknown } = {}) {
    super(`layer entry ${JSON.stringify(entry)}: ${reason}`, options);
    this.entry = entry;
  }
}
