/**
 * Connecting to a registry the way the commands need it: http or https by the host (loopback and
 * `--insecure-registry`/`<root>/config.json` hosts get http), credentials from the Docker config,
 * and knowledge of which local images came from which repository of that registry (mount sources).
 */
import { type Digest, type ImageStore, parseReference } from '../image/index.ts';
import { RegistryClient, type RegistryClientOptions } from './client.ts';
import { readCredentials, readInsecureRegistries } from './config.ts';

export interface ConnectOptions {
  /** The tbuild root (for `<root>/config.json`). */
  root: string;
  /** Hosts given with `--insecure-registry`. */
  insecureRegistries?: string[];
  /** Overrides what the Docker config holds (`login` checks new credentials this way). */
  credentials?: RegistryClientOptions['credentials'];
  retries?: number;
  retryBaseMs?: number;
}

/** True for hosts that are always spoken to over http: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** A client for `host` (a reference's domain) with credentials and scheme resolved. */
export async function connectRegistry(host: string, options: ConnectOptions): Promise<RegistryClient> {
  const insecure = [...(options.insecureRegistries ?? []), ...(await readInsecureRegistries(options.root))];
  const bare = host.replace(/:\d+$/, '');
  const client: RegistryClientOptions = {
    insecure: isLoopbackHost(host) || insecure.includes(host) || insecure.includes(bare),
    credentials: options.credentials ?? (await readCredentials(host)),
  };
  if (options.retries !== undefined) client.retries = options.retries;
  if (options.retryBaseMs !== undefined) client.retryBaseMs = options.retryBaseMs;
  return new RegistryClient(host, client);
}

/**
 * Repositories of `host` that local images were tagged from, per blob digest: candidates for a
 * cross-repository mount (what moby's v2 metadata service remembers, rebuilt from our tags).
 */
export async function findMountSources(
  store: ImageStore,
  host: string,
): Promise<(digest: Digest) => string[]> {
  const sources = new Map<Digest, Set<string>>();
  for (const image of await store.listImages()) {
    for (const tag of image.tags) {
      const ref = parseReference(tag);
      if (ref.domain !== host) continue;
      for (const d of [image.manifest.config, ...image.manifest.layers]) {
        const set = sources.get(d.digest) ?? new Set<string>();
        set.add(ref.path);
        sources.set(d.digest, set);
      }
    }
  }
  return (digest) => [...(sources.get(digest) ?? [])];
}
