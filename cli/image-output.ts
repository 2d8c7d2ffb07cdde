/**
 * Output helpers shared by the image commands, matching the Docker CLI's formatting:
 * go-units HumanSizeWithPrecision / HumanDuration, and text/tabwriter tables (minwidth 10,
 * padding 3, as docker/cli formatter.NewContext uses).
 */
import type { ImageStore, StoredImage } from '../image/index.ts';
import type { CommandContext } from './command.ts';
import { openRoot } from './open-root.ts';

/**
 * Decimal units with three significant digits: `4.26MB`, `0B`, `1.5kB` (go-units
 * HumanSizeWithPrecision(size, 3), what docker's SIZE columns print); `images`' VirtualSize uses
 * HumanSize, four digits.
 */
export function humanSize(bytes: number, precision = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${Number(value.toPrecision(precision))}${units[i]}`;
}

/**
 * Binary units with four significant digits: `344KiB`, `23.54GiB` (go-units BytesSize, what
 * docker stats prints for memory).
 */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

/** go-units HumanDuration: "Less than a second", "About a minute", "3 days", "2 years". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "3 days ago", or "N/A" for an image without a creation time. */
export function humanSince(created: string | undefined, now = Date.now()): string {
  if (!created) return 'N/A';
  const t = Date.parse(created);
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** The 12-hex short form of an ID, as Docker shows it. */
export { shortId } from '../image/index.ts';

/** Aligns rows like Go's tabwriter (minwidth 10, padding 3); the last column is not padded. */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length + 3, 10);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join(''))
    .map((line) => `${line.trimEnd()}\n`)
    .join('');
}

/**
 * Docker's SIZE of each of an image's layers: the unpacked size of the files in it, as the store
 * recorded it (image/layer-size.ts). A layer the store cannot read as a tar (zstd) falls back to
 * its blob size, the only size known for it.
 */
export async function layerSizes(store: ImageStore, image: StoredImage): Promise<number[]> {
  const sizes: number[] = [];
  for (const layer of image.manifest.layers) sizes.push((await store.layerSize(layer.digest)) ?? layer.size);
  return sizes;
}

/** Docker's image SIZE (and inspect's `Size`): the sum of its layers' sizes. */
export async function imageSize(store: ImageStore, image: StoredImage): Promise<number> {
  return (await layerSizes(store, image)).reduce((n, s) => n + s, 0);
}

/** Opens the store for a command (`--root` or its defaults), sweeping dead processes' leftovers first. */
export function openStore(ctx: CommandContext): Promise<ImageStore> {
  return openRoot(ctx.globals.root, ctx.stderr);
}
