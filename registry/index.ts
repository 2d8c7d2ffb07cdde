// Public surface of registry/: the distribution-spec client (pull, push, auth).
// Several people may add export lines here: edit with a targeted insert, never rewrite the file.
export { type Challenge, parseChallenge, parseRetryAfter } from './auth.ts';
export { RegistryClient, type RegistryClientOptions, type RegistryRequest } from './client.ts';
export {
  type Credentials,
  dockerConfigPath,
  normalizeRegistryHost,
  readCredentials,
  readInsecureRegistries,
  removeCredentials,
  saveCredentials,
} from './config.ts';
export { RegistryError } from './errors.ts';
export { fetchManifest, formatPlatform, parsePlatform, selectPlatform } from './manifest.ts';
export { type PullEvent, type PullOptions, type PullResult, pullBlob, pullImage } from './pull.ts';
export {
  type BlobSource,
  type PushEvent,
  type PushOptions,
  type PushResult,
  pushImage,
  pushManifest,
} from './push.ts';
export { type ConnectOptions, connectRegistry, findMountSources, isLoopbackHost } from './session.ts';
export { timeoutsFromEnv } from './timeouts.ts';
