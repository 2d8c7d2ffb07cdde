import {
  familiarName,
  familiarString,
  parseReference,
  type StoredImage,
  StoreError,
} from '../../image/index.ts';
import { ContainerError, containerDocument, inspectContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';
import { imageSize, openStore } from '../image-output.ts';
import { inspectTemplate, writeInspected } from '../inspect-output.ts';

const usage = `
Usage:  tbuild inspect [OPTIONS] NAME|ID [NAME|ID...]

Display detailed information on containers or images, as a JSON array: a container by that
name or id first, as docker inspect looks (docker container inspect), else an image

Options:
  -f, --format string   Format the output using a Go template ("json" = "{{json .}}")
`;

/**
 * The `docker image inspect` document (moby api/types/image InspectResponse). RepoDigests are
 * `repo@<manifest digest>` for each repository the image is tagged in, as Docker's containerd
 * image store shows them. History is not part of Docker's document; tbuild adds it under
 * Metadata so that `inspect` alone is enough to see how an image was made.
 */
function inspectImage(image: StoredImage, size: number): Record<string, unknown> {
  const refs = image.tags.map((t) => parseReference(t));
  const c = image.config;
  return {
    Id: image.id,
    RepoTags: refs.map(familiarString),
    RepoDigests: [...new Set(refs.map((r) => `${familiarName(r)}@${image.descriptor.digest}`))],
    Parent: '',
    Comment: c.history?.at(-1)?.comment ?? '',
    Created: c.created ?? '',
    DockerVersion: typeof c.docker_version === 'string' ? c.docker_version : '',
    Author: c.author ?? '',
    Config: c.config ?? null,
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: size,
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z', History: c.history ?? [] },
    Descriptor: image.descriptor,
  };
}

/** `tbuild inspect IMAGE...` (docker image inspect). */
export const inspectCommand: Command = {
  summary: 'Display detailed information on one or more images',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'inspect',
      usage,
      options: { format: { type: 'string', short: 'f' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { positionals, values } = line;
    const template = inspectTemplate(values.format);
    const store = await openStore(ctx);
    try {
      const found: Record<string, unknown>[] = [];
      const errors: string[] = [];
      for (const name of positionals) {
        // docker-cli inspect.go inspectAll tries a container before an image.
        try {
          found.push(containerDocument(await inspectContainer(containerRoot(ctx), name)));
          continue;
        } catch (error) {
          if (!(error instanceof ContainerError)) throw error;
        }
        try {
          const image = await store.resolve(name);
          found.push(inspectImage(image, await imageSize(store, image)));
        } catch (error) {
          if (!(error instanceof StoreError)) throw error;
          errors.push(error.message);
        }
      }
      writeInspected(ctx, found, template);
      for (const e of errors) ctx.stderr.write(`Error: ${e}\n`);
      return errors.length > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};
