/**
 * Where credentials and registry settings come from:
 *   - `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), `auths`: `{ "<host>": { "auth":
 *     base64("user:pass") } }`, shared with the Docker CLI. Keys may carry a scheme and a path
 *     (`https://index.docker.io/v1/`); they are compared by host, as docker/cli `ConvertToHostname`.
 *     Credential helpers (`credsStore`, `credHelpers`) are not consulted.
 *   - `<root>/config.json`, `{ "insecure-registries": ["host:port", …] }`: hosts spoken to over http.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RegistryError } from './errors.ts';

/** A username and password (or token) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** The `auths` key Docker uses for Docker Hub. */
const dockerHubKey = 'https://index.docker.io/v1/';

/** The Docker CLI's config file path. */
export function dockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || join(homedir(), '.docker');
  return join(dir, 'config.json');
}

type Json = Record<string, unknown>;

async function readJsonFile(path: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Json;
  } catch (error) {
    throw new RegistryError(`invalid ${path}: ${(error as Error).message}`);
  }
}

/** `https://host/v1/` → `host`; `docker.io` and Docker Hub's legacy names → `docker.io`. */
function hostOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function authKey(host: string): string {
  return host === 'docker.io' ? dockerHubKey : host;
}

/** The credentials stored for `host` (a reference's domain), or undefined. */
export async function readCredentials(
  host: string,
  path = dockerConfigPath(),
): Promise<Credentials | undefined> {
  const config = await readJsonFile(path);
  const auths = config?.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  for (const [key, entry] of Object.entries(auths as Json)) {
    if (hostOfKey(key) !== host || typeof entry !== 'object' || entry === null) continue;
    const e = entry as Json;
    if (typeof e.auth === 'string' && e.auth !== '') {
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon < 0) throw new RegistryError(`invalid auth entry for ${key} in ${path}`);
      return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
    }
    if (typeof e.username === 'string' && typeof e.password === 'string') {
      return { username: e.username, password: e.password };
    }
  }
  return undefined;
}

async function writeJsonFile(path: string, value: Json): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(value, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** Stores credentials for `host`, keeping everything else in the file. */
export async function saveCredentials(
  host: string,
  creds: Credentials,
  path = dockerConfigPath(),
): Promise<void> {
  const config = (await readJsonFile(path)) ?? {};
  const auths = (typeof config.auths === 'object' && config.auths !== null ? config.auths : {}) as Json;
  for (const key of Object.keys(auths)) if (hostOfKey(key) === host) delete auths[key];
  auths[authKey(host)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  config.auths = auths;
  await writeJsonFile(path, config);
}

/** Removes the credentials for `host`; returns false when there were none. */
export async function removeCredentials(host: string, path = dockerConfigPath()): Promise<boolean> {
  const config = await readJsonFile(path);
  const auths = config?.auths;
  if (config === undefined || typeof auths !== 'object' || auths === null) return false;
  let removed = false;
  for (const key of Object.keys(auths)) {
    if (hostOfKey(key) === host) {
      delete (auths as Json)[key];
      removed = true;
    }
  }
  if (removed) await writeJsonFile(path, config);
  return removed;
}

/** `insecure-registries` from `<root>/config.json` (empty when the file does not exist). */
export async function readInsecureRegistries(root: string): Promise<string[]> {
  const path = join(root, 'config.json');
  const config = await readJsonFile(path);
  const list = config?.['insecure-registries'];
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) {
    throw new RegistryError(`invalid ${path}: "insecure-registries" must be a list of host names`);
  }
  return list as string[];
}

/** Docker's key for a registry named on the command line (`https://host/v1/` → `host`). */
export function normalizeRegistryHost(name: string): string {
  return hostOfKey(name);
}
