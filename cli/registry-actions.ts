/**
 * Pull and push as the commands (`pull`, `push`, `build --push`, FROM auto-pull) run them, with
 * Docker-like progress lines. The registry client does the work; this file only connects it to
 * the store and the terminal.
 */
import {
  familiarString,
  formatReference,
  type ImageStore,
  type Platform,
  parseReference,
  parseTaggedReference,
} from '../image/index.ts';
import { connectRegistry, findMountSources, pullImage, pushImage } from '../registry/index.ts';

export interface RegistryFlags {
  root: string;
  insecureRegistries: string[];
}

function short(digest: string): string {
  return digest.slice(7, 19);
}

/** `docker pull` behaviour: pulls `input` into the store and prints progress on `out`. */
export async function pullReference(
  store: ImageStore,
  input: string,
  flags: RegistryFlags & { platform?: Platform; quiet?: boolean },
  out: NodeJS.WritableStream,
): Promise<{ id: string; tag: string | undefined }> {
  const ref = parseTaggedReference(input);
  const client = await connectRegistry(ref.domain, flags);
  const say = (line: string) => {
    if (!flags.quiet) out.write(`${line}\n`);
  };
  if (ref.tag !== undefined && ref.digest === undefined) say(`${ref.tag}: Pulling from ${ref.path}`);
  const result = await pullImage(store, client, ref, {
    ...(flags.platform ? { platform: flags.platform } : {}),
    onEvent: (event) => {
      if (event.type === 'exists') say(`${short(event.digest)}: Already exists`);
      else if (event.type === 'downloaded') say(`${short(event.digest)}: Pull complete`);
    },
  });
  say(`Digest: ${result.digest}`);
  const shown = familiarString(ref);
  say(
    result.changed
      ? `Status: Downloaded newer image for ${shown}`
      : `Status: Image is up to date for ${shown}`,
  );
  if (!flags.quiet) out.write(`${formatReference(ref)}\n`);
  return { id: result.id, tag: result.tag };
}

/** `docker push` behaviour: pushes the local image `input` to the registry its name points at. */
export async function pushReference(
  store: ImageStore,
  input: string,
  flags: RegistryFlags & { quiet?: boolean },
  out: NodeJS.WritableStream,
): Promise<{ digest: string; size: number }> {
  const parsed = parseReference(input);
  const ref = parsed.digest === undefined && parsed.tag === undefined ? { ...parsed, tag: 'latest' } : parsed;
  const client = await connectRegistry(ref.domain, flags);
  const say = (line: string) => {
    if (!flags.quiet) out.write(`${line}\n`);
  };
  say(`The push refers to repository [${ref.name}]`);
  const result = await pushImage(store, client, formatReference(ref), ref, {
    mountSources: await findMountSources(store, ref.domain),
    onEvent: (event) => {
      if (event.type === 'exists') say(`${short(event.digest)}: Layer already exists`);
      else if (event.type === 'mounted') say(`${short(event.digest)}: Mounted from ${event.from}`);
      else say(`${short(event.digest)}: Pushed`);
    },
  });
  say(`${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${result.size}`);
  return result;
}
