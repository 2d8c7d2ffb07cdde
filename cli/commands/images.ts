import { formatRows, type TemplateRow } from '../../format/index.ts';
import {
  familiarMatch,
  familiarName,
  familiarString,
  type ImageFilters,
  matchesImage,
  parseReference,
  type StoredImage,
} from '../../image/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { parseImageFilters } from '../image-filters.ts';
import { humanSince, humanSize, imageSize, openStore, shortId } from '../image-output.ts';

const usage = `
Usage:  tbuild images [OPTIONS] [REPOSITORY[:TAG]]

List images

Options:
  -a, --all             Show all images (tbuild keeps no intermediate images, so the same list)
      --digests         Show digests
  -f, --filter filter   Filter output based on conditions provided: dangling=true|false,
                        reference=PATTERN, before=IMAGE, since=IMAGE, label=KEY[=VALUE]
      --format string   Pretty-print images using a Go template ("table …", "json" = "{{json .}}")
      --no-trunc        Don't truncate output
  -q, --quiet           Only show image IDs
`;

/** docker/cli formatter/image.go: the default tables and each field's header. */
const defaultFormat = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const digestsFormat = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const headers: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** One line of `images`: an image under one of its tags (or `<none>`). */
interface Row {
  image: StoredImage;
  repository: string;
  tag: string;
}

/** The rows moby's Images lists: each tag that passes the reference filter, `<none>` if none. */
function rowsOf(images: StoredImage[], filters: ImageFilters): Row[] {
  const patterns = filters.get('reference');
  const dangling = filters.get('dangling');
  const danglingOnly = dangling?.includes('true') === true;
  const rows: Row[] = [];
  for (const image of images) {
    const tags = image.tags
      .map((t) => parseReference(t))
      .filter((ref) => !patterns || patterns.some((p) => familiarMatch(p, familiarString(ref))));
    if (tags.length === 0) {
      // An untagged image: not for dangling=false, nor when its tags did not match a reference.
      if (image.tags.length > 0 || (dangling && !danglingOnly) || patterns) continue;
      rows.push({ image, repository: '<none>', tag: '<none>' });
      continue;
    }
    if (danglingOnly) continue;
    for (const ref of tags) rows.push({ image, repository: familiarName(ref), tag: ref.tag ?? '<none>' });
  }
  return rows;
}

/** Go's time.Time String() layout as `docker images --format {{.CreatedAt}}` prints it. */
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
        filter: { type: 'string', short: 'f', multiple: true },
        format: { type: 'string' },
        'no-trunc': { type: 'boolean' },
      },
      args: { max: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const filters = parseImageFilters('images', values.filter ?? []);
    const name = positionals[0];
    if (name !== undefined) {
      // docker-cli adds the argument as a reference filter; a plain name must be a valid one.
      if (!/[*?[]/.test(name)) parseReference(name);
      filters.set('reference', [...(filters.get('reference') ?? []), name]);
    }
    const store = await openStore(ctx);
    try {
      const images = await store.listImages();
      const bounds: { before?: number; since?: number } = {};
      for (const key of ['before', 'since'] as const) {
        for (const ref of filters.get(key) ?? []) {
          const image = await store.resolve(ref);
          bounds[key] = Date.parse(image.config.created ?? '') || 0;
        }
      }
      const rows = rowsOf(
        images.filter((i) => matchesImage(i, filters, bounds)),
        filters,
      );
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
      const sizes = new Map<string, number>();
      for (const { image } of rows) {
        if (!sizes.has(image.descriptor.digest))
          sizes.set(image.descriptor.digest, await imageSize(store, image));
      }
      const contexts: TemplateRow[] = rows.map(({ image, repository, tag }) => {
        const size = sizes.get(image.descriptor.digest) ?? 0;
        return {
          Containers: 'N/A',
          CreatedAt: goTime(image.config.created),
          CreatedSince: humanSince(image.config.created),
          Digest: image.descriptor.digest,
          ID: id(image),
          Repository: repository,
          SharedSize: 'N/A',
          Size: humanSize(size),
          Tag: tag,
          UniqueSize: 'N/A',
          VirtualSize: humanSize(size, 4),
        };
      });
      let format = values.format ?? '';
      if (format === 'json') format = '{{json .}}';
      if (format === '' || format === 'table') format = values.digests ? digestsFormat : defaultFormat;
      ctx.stdout.write(formatRows(contexts, { format, headers, structType: '*formatter.imageContext' }));
      return 0;
    } finally {
      await store.close();
    }
  },
};
