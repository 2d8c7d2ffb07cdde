/**
 * Image references, parsed and normalised by the rules of distribution/reference (the Go package
 * Docker uses: `normalize.go` ParseNormalizedNamed, `regexp.go` grammar):
 *   busybox            → docker.io/library/busybox:latest
 *   user/app:1         → docker.io/user/app:1
 *   localhost:5000/x   → localhost:5000/x:latest
 *   x@sha256:…         → docker.io/library/x@sha256:… (no implied tag when a digest is given)
 * Written by hand (about the size of a port of the regexps) rather than taking a dependency.
 */
import { StoreError } from './errors.ts';
import type { Digest } from './oci.ts';

/** A parsed, normalised reference. `name` always has a domain (`docker.io/library/busybox`). */
export interface ImageReference {
  /** Registry host with optional port: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  domain: string;
  /** Repository path inside the registry: `library/busybox`. */
  path: string;
  /** `domain/path`. */
  name: string;
  tag?: string;
  digest?: Digest;
}

const defaultDomain = 'docker.io';
const legacyDefaultDomain = 'index.docker.io';
const officialRepoPrefix = 'library/';

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const namePattern = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const referenceRe = new RegExp(`^(${namePattern})(?::(${tagPattern}))?(?:@(${digestPattern}))?$`);
const anchoredHex64 = /^[a-f0-9]{64}$/;
const nameMaxLength = 255;

function invalid(reason: string): StoreError {
  return new StoreError(`invalid reference format: ${reason}`);
}

/** Splits `remote` into domain and path, applying Docker Hub's defaults (distribution splitDockerDomain). */
function splitDomain(remote: string): { domain: string; path: string } {
  const slash = remote.indexOf('/');
  let domain: string;
  let path: string;
  const first = remote.slice(0, slash);
  if (
    slash === -1 ||
    (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)
  ) {
    domain = defaultDomain;
    path = remote;
  } else {
    domain = first;
    path = remote.slice(slash + 1);
  }
  if (domain === legacyDefaultDomain) domain = defaultDomain;
  if (domain === defaultDomain && !path.includes('/')) path = officialRepoPrefix + path;
  return { domain, path };
}

/**
 * Parses a reference as the Docker CLI does and normalises it. Throws a StoreError whose message
 * starts with "invalid reference format" and says why.
 */
export function parseReference(input: string): ImageReference {
  if (input === '') throw invalid('empty reference');
  if (anchoredHex64.test(input)) {
    throw invalid(`invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`);
  }
  // Split off tag and digest by position first, so errors can name the part that is wrong.
  const at = input.indexOf('@');
  const beforeDigest = at === -1 ? input : input.slice(0, at);
  const lastColon = beforeDigest.lastIndexOf(':');
  const lastSlash = beforeDigest.lastIndexOf('/');
  const remote = lastColon > lastSlash ? beforeDigest.slice(0, lastColon) : beforeDigest;
  const { domain, path } = splitDomain(remote);
  if (path.toLowerCase() !== path) throw invalid(`repository name (${path}) must be lowercase`);
  const match = referenceRe.exec(input);
  if (match === null) {
    if (at !== -1 && !new RegExp(`^${digestPattern}$`).test(input.slice(at + 1))) {
      throw invalid(`invalid digest "${input.slice(at + 1)}"`);
    }
    if (lastColon > lastSlash && !new RegExp(`^${tagPattern}$`).test(beforeDigest.slice(lastColon + 1))) {
      throw invalid(`invalid tag "${beforeDigest.slice(lastColon + 1)}"`);
    }
    throw invalid(`"${input}" is not a valid image name`);
  }
  const name = `${domain}/${path}`;
  if (name.length > nameMaxLength)
    throw invalid(`repository name must not be more than ${nameMaxLength} characters`);
  const ref: ImageReference = { domain, path, name };
  if (match[2] !== undefined) ref.tag = match[2];
  if (match[3] !== undefined) {
    if (!/^sha256:[a-f0-9]{64}$/.test(match[3])) throw invalid(`unsupported digest "${match[3]}"`);
    ref.digest = match[3] as Digest;
  }
  return ref;
}

/** Parses and, as `docker pull`/`docker tag` do, adds the tag `latest` when there is neither tag nor digest. */
export function parseTaggedReference(input: string): ImageReference {
  const ref = parseReference(input);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
  return ref;
}

/** The full normalised string: `docker.io/library/busybox:latest`, `x@sha256:…`, or both. */
export function formatReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The repository as `docker images` shows it: `busybox`, `user/app`, `localhost:5000/x`. */
export function familiarName(ref: Pick<ImageReference, 'domain' | 'path'>): string {
  if (ref.domain !== defaultDomain) return `${ref.domain}/${ref.path}`;
  return ref.path.startsWith(officialRepoPrefix) && !ref.path.slice(officialRepoPrefix.length).includes('/')
    ? ref.path.slice(officialRepoPrefix.length)
    : ref.path;
}

/** The short display form with tag and digest: `busybox:latest`. */
export function familiarString(ref: ImageReference): string {
  return `${familiarName(ref)}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}
