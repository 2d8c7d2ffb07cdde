/** The 12 hex digits Docker shows for an image or container ID (`sha256:` dropped). */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}
