import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The build cache index: cache key → a small JSON record (the layers a step produced). Records are
 * written to a temp file, fsynced and renamed, so readers see a whole record or none, and two
 * processes writing the same key both leave a valid one (the same key means the same result).
 */
export function cacheRecordPath(root: string, key: string): string {
  return join(root, 'cache', 'keys', `${key.replace(/^sha256:/, '')}.json`);
}

export async function readCacheRecord<T>(root: string, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(cacheRecordPath(root, key), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeCacheRecord(root: string, key: string, record: unknown): Promise<void> {
  const path = cacheRecordPath(root, key);
  await mkdir(join(root, 'cache', 'keys'), { recursive: true });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temp, 'w');
  try {
    await file.writeFile(JSON.stringify(record));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}
