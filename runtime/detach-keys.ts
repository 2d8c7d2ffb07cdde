/**
 * Docker's detach keys: the key sequence that, typed on an attached stdin, leaves the container
 * running and ends the attach (`ctrl-p,ctrl-q` unless `--detach-keys` says otherwise). The
 * spelling is moby/term's ToBytes: comma-separated keys, each one character or `ctrl-X` for X
 * in `@`, `a`-`z`, `[`, `\`, `]`, `^`, `_`.
 */
import { ContainerError } from './errors.ts';

/** Docker's default: Ctrl-P Ctrl-Q. */
export const defaultDetachKeys = 'ctrl-p,ctrl-q';

const controlNames = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/** The bytes of a `--detach-keys` value; Docker's daemon error for a key it does not know. */
export function parseDetachKeys(spec: string): Buffer {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const lower = key.toLowerCase();
    const index = lower.startsWith('ctrl-') ? controlNames.indexOf(lower.slice(5)) : -1;
    if (index < 0 || lower.length !== 6) {
      throw new ContainerError(`Invalid detach keys (${spec}) provided`);
    }
    codes.push(index);
  }
  return Buffer.from(codes);
}

/**
 * Watches input for the detach sequence. Bytes that start the sequence are held back until it is
 * complete (then they are dropped: the container never sees them) or broken (then they go on,
 * with the byte that broke it), as moby/term's escape proxy does.
 */
export class DetachKeyWatcher {
  private matched = 0;
  private readonly keys: Buffer;

  constructor(keys: Buffer) {
    this.keys = keys;
  }

  /** What to pass on from `chunk`, and whether the sequence was completed in it. */
  push(chunk: Buffer): { pass: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (this.matched > 0 && byte !== this.keys[this.matched]) {
        // A broken sequence: what was held goes on; the byte may begin a new sequence.
        for (let i = 0; i < this.matched; i++) out.push(this.keys[i] as number);
        this.matched = 0;
      }
      if (byte !== this.keys[this.matched]) {
        out.push(byte);
        continue;
      }
      this.matched++;
      if (this.matched === this.keys.length) {
        this.matched = 0;
        return { pass: Buffer.from(out), detached: true };
      }
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
