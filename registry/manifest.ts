/**
 * Manifests on the wire: fetching by tag or digest with an `Accept` header that covers OCI and
 * Docker schema 2 manifests and indexes, verifying the bytes against the digest, and choosing a
 * platform from an index (os/architecture/variant, as containerd's `platforms.Only` for one
 * platform).
 */
import {
  classifyMediaType,
  type Descriptor,
  type Digest,
  digestOf,
  type ImageIndex,
  isImageIndex,
  isManifest,
  type Manifest,
  MediaType,
  type Platform,
} from '../image/index.ts';
import type { RegistryClient } from './client.ts';

const maxManifestBytes = 4 << 20;

const manifestAccept = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');

/** A manifest or index exactly as the registry served it. */
export type FetchedManifest =
  | { kind: 'manifest'; descriptor: Descriptor; bytes: Buffer; manifest: Manifest }
  | { kind: 'index'; descriptor: Descriptor; bytes: Buffer; index: ImageIndex };

/** Reads a response body whole, refusing more than `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel().catch(() => {});
      throw new Error(`larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** `GET /v2/<repo>/manifests/<tag|digest>`, verified when the reference is a digest. */
export async function fetchManifest(
  client: RegistryClient,
  repository: string,
  reference: string,
  step: string,
): Promise<FetchedManifest> {
  return client.withRetry(async () => {
    const response = await client.request({
      method: 'GET',
      url: `/v2/${repository}/manifests/${reference}`,
      step,
      scopes: [`repository:${repository}:pull`],
      headers: { accept: manifestAccept },
    });
    let bytes: Buffer;
    try {
      bytes = await readLimited(response, maxManifestBytes);
    } catch (error) {
      throw client.error(step, `reading the manifest: ${(error as Error).message}`, {
        retryable: !(error as Error).message.startsWith('larger'),
      });
    }
    const digest = digestOf(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw client.error(step, `digest mismatch: expected ${reference}, got ${digest}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw client.error(step, `invalid manifest: ${(error as Error).message}`);
    }
    const declared = (json as { mediaType?: unknown }).mediaType;
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    const mediaType =
      typeof declared === 'string' && declared !== ''
        ? declared
        : classifyMediaType(contentType) !== undefined
          ? contentType
          : (json as { manifests?: unknown }).manifests !== undefined
            ? MediaType.ociIndex
            : MediaType.ociManifest;
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    const kind = classifyMediaType(mediaType);
    if (kind === 'index' && isImageIndex(json)) return { kind, descriptor, bytes, index: json };
    if (kind === 'manifest' && isManifest(json)) return { kind, descriptor, bytes, manifest: json };
    if (kind === 'index' || kind === 'manifest')
      throw client.error(step, `invalid ${kind}: unexpected structure`);
    throw client.error(step, `unsupported manifest media type ${JSON.stringify(mediaType)}`);
  });
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.split('/');
  if (!os || !architecture || rest.length > 0 || variant === '') {
    throw new Error(`invalid platform "${text}": expected os/arch[/variant]`);
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** The entry of `index` for `want` (variant compared only when asked; arm64 defaults to v8). */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor | undefined {
  const normVariant = (p: Platform) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);
  return index.manifests.find((m) => {
    const p = m.platform;
    if (!p || classifyMediaType(m.mediaType) !== 'manifest') return false;
    if (p.os !== want.os || p.architecture !== want.architecture) return false;
    return want.variant === undefined || normVariant(p) === normVariant(want);
  });
}

export type { Digest };
