// Named contexts (`--build-context NAME=VALUE`): what a name in `FROM`, `COPY --from` or
// `RUN --mount from=` resolves to when the build was given a context of that name. BuildKit:
// frontend/dockerui namedcontext.go (NamedContext.load) and config.go (NamedContext: names are
// compared in their familiar form, `docker.io/library/alpine:latest` and `alpine` alike), used by
// dockerfile2llb convert.go buildDispatchStates (a stage of that name is replaced whole) and
// resolveBaseImage (an image of that name is replaced).
import { familiarString, parseReference } from '../image/index.ts';
import { type Vertex, vertex } from '../solver/index.ts';
import type { ConvertOptions, NamedContext, ResolvedImage } from './convert-types.ts';
import type { ConvertContext } from './dispatch-state.ts';

/**
 * A name's key among the named contexts: its familiar form without `:latest` (buildx
 * ParseContextNames and dockerui NamedContext normalise both sides so). Throws the reference
 * grammar's error (an image StoreError) for a name that is no valid reference.
 */
export function namedContextKey(name: string): string {
  const familiar = familiarString(parseReference(name));
  return familiar.endsWith(':latest') ? familiar.slice(0, -':latest'.length) : familiar;
}

/** What a named context gives the conversion. */
export interface NamedSource {
  /** Where `COPY --from` and bind mounts read files: the directory itself, or the image. */
  files: Vertex;
  /** A root filesystem, for `FROM`: a local directory's files copied onto scratch. */
  fs: Vertex;
  /** An image context's image (its config becomes the stage's). */
  image?: ResolvedImage;
}

/** The named context `name` refers to, or undefined when the build has none of that name. */
export function findNamedContext(options: ConvertOptions, name: string): NamedContext | undefined {
  const contexts = options.namedContexts;
  if (contexts === undefined) return undefined;
  let key: string;
  try {
    key = namedContextKey(name);
  } catch {
    // No valid reference (BuildKit would refuse it as one): no context has that name.
    return undefined;
  }
  return Object.hasOwn(contexts, key) ? contexts[key] : undefined;
}

/**
 * The vertices of the named context `name`, made once per build (a context used by several
 * stages is one source); undefined when there is none of that name.
 */
export function loadNamedContext(
  ctx: ConvertContext,
  name: string,
  at: string,
): Promise<NamedSource> | undefined {
  const context = findNamedContext(ctx.options, name);
  if (context === undefined) return undefined;
  const key = namedContextKey(name);
  let loaded = ctx.namedSources.get(key);
  if (!loaded) {
    loaded = makeSource(ctx, key, context, at);
    ctx.namedSources.set(key, loaded);
  }
  return loaded;
}

async function makeSource(
  ctx: ConvertContext,
  key: string,
  context: NamedContext,
  at: string,
): Promise<NamedSource> {
  const shown = `[context ${key}]`;
  if (context.type === 'image') {
    // `docker-image://scratch` is the empty filesystem (dockerui EmptyImageName).
    if (context.ref === 'scratch') {
      const empty = vertex({ type: 'scratch' }, [], `${shown} scratch`);
      return { files: empty, fs: empty };
    }
    const image = await ctx.options.resolveImage(context.ref, at);
    const from = vertex(
      { type: 'image', ref: image.ref, manifest: image.manifest },
      [],
      `${shown} ${image.ref}`,
      at,
    );
    return { files: from, fs: from, image };
  }
  // A directory (the user's, or a fetched git checkout or archive) is read like the main
  // context: COPY takes the files it names from it, keyed by their content. BuildKit's
  // llb.Local with the directory's own .dockerignore as excludes.
  const files = vertex(
    { type: 'context', name: key, dir: context.dir, excludes: context.excludes },
    [],
    `${shown} load from client`,
  );
  // As a stage's base it is a root filesystem: all of it, copied onto an empty one.
  const fs = vertex(
    { type: 'copy', sources: ['.'], dest: '/', extractArchives: false, excludes: [] },
    [vertex({ type: 'scratch' }, [], 'scratch'), files],
    `${shown} load from client`,
  );
  return { files, fs };
}
