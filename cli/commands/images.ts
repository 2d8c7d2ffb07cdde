import { familiarName, parseReference, type StoredImage } from '../../image/index.ts';
import type { Command } from '../command.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';
import { formatTable, humanSince, humanSize, imageSize, openStore, shortId } from '../image-output.ts';

const usage = `
Usage:  tbuild images [OPTIONS] [REPOSITORY[:TAG]]

List images

Options:
  -a, --all             Show all images (tbuild keeps no intermediate images, so the same list)
      --digests         Show digests
      --format string   "json": one JSON object per line, as docker images --format json
      --no-trunc        Don't truncate output
  -q, --quiet           Only show image IDs
`;

/** One line of `images`: an image under one of its tags (or `<none>`). */
interface Row {
  image: StoredImage;
  repository: string;
  tag: string;
}

function rowsOf(images: StoredImage[], filter: string | undefined): Row[] {
  let want: { name: string; tag?: string } | undefined;
  if (filter !== undefined) {
    const ref = parseReference(filter);
    want = ref.tag === undefined ? { name: ref.name } : { name: ref.name, tag: ref.tag };
  }
  const rows: Row[] = [];
  for (const image of images) {
    if (image.tags.length === 0) {
      if (!want) rows.push({ image, repository: '<none>', tag: '<none>' });
      continue;
    }
    for (const full of image.tags) {
      const ref = parseReference(full);
      if (want && (ref.name !== want.name || (want.tag !== undefined && ref.tag !== want.tag))) continue;
      rows.push({ image, repository: familiarName(ref), tag: ref.tag ?? '<none>' });
    }
  }
  return rows;
}

/** Go's time.Time String() layout as `docker images --format json` prints CreatedAt. */
function goTime(created: string | undefined): string {
  if (!created) return '';
  const d = new Date(created);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** `tbuild images` (docker images). */
export const imagesCommand: Command = {
  summary: 'List images',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'images',
      usage,
      options: {
        all: { type: 'boolean', short: 'a' },
        quiet: { type: 'boolean', short: 'q' },
        digests: { type: 'boolean' },
        format: { type: 'string' },
        'no-trunc': { type: 'boolean' },
      },
      args: { max: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const store = await openStore(ctx);
    try {
      const rows = rowsOf(await store.listImages(), positionals[0]);
      const sizes = new Map<string, number>();
      for (const { image } of rows) {
        if (!sizes.has(image.descriptor.digest))
          sizes.set(image.descriptor.digest, await imageSize(store, image));
      }
      const size = (image: StoredImage) => humanSize(sizes.get(image.descriptor.digest) ?? 0);
      const id = (image: StoredImage) => (values['no-trunc'] ? image.id : shortId(image.id));
      if (values.quiet) {
        const seen = new Set<string>();
        for (const row of rows) {
          if (seen.has(row.image.id)) continue;
          seen.add(row.image.id);
          ctx.stdout.write(`${id(row.image)}\n`);
        }
        return 0;
      }
      if (values.format === 'json') {
        for (const { image, repository, tag } of rows) {
          const json = {
            Containers: 'N/A',
            CreatedAt: goTime(image.config.created),
            CreatedSince: humanSince(image.config.created),
            Digest: image.descriptor.digest,
            ID: id(image),
            Repository: repository,
            SharedSize: 'N/A',
            Size: size(image),
            Tag: tag,
            UniqueSize: 'N/A',
            VirtualSize: size(image),
          };
          ctx.stdout.write(`${JSON.stringify(json)}\n`);
        }
        return 0;
      }
      if (values.format !== undefined)
        throw commandUsageError('images', `unsupported --format "${values.format}" (use json)`);
      const header = values.digests
        ? ['REPOSITORY', 'TAG', 'DIGEST', 'IMAGE ID', 'CREATED', 'SIZE']
        : ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
      const table = [header];
      for (const { image, repository, tag } of rows) {
        const cells = [repository, tag, id(image), humanSince(image.config.created), size(image)];
        if (values.digests) cells.splice(2, 0, image.descriptor.digest);
        table.push(cells);
      }
      ctx.stdout.write(formatTable(table));
      return 0;
    } finally {
      await store.close();
    }
  },
};
