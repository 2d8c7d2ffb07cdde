import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import { pathError } from '../user-paths.ts';

/** One `--secret` flag: the value comes from the file `src` or the environment variable `env`. */
export interface SecretFlag {
  id: string;
  src?: string;
  env?: string;
}

/**
 * Parses `--secret id=NAME[,src=FILE|,env=VAR]` (docker buildx's forms: `source` = `src`,
 * `type=file|env`). With neither src nor env, the variable named like the id is used when set,
 * else a file of that name.
 */
export function parseSecretFlag(spec: string): SecretFlag {
  const secret: Partial<SecretFlag> & { type?: string } = {};
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : field.slice(eq + 1);
    if (key === 'id') secret.id = value;
    else if (key === 'src' || key === 'source') secret.src = value;
    else if (key === 'env') secret.env = value;
    else if (key === 'type' && (value === 'file' || value === 'env')) secret.type = value;
    else
      throw new UsageError(`invalid secret "${spec}": unexpected key '${key}'`, {
        hint: 'use id=NAME,src=FILE or id=NAME,env=VAR',
      });
  }
  if (!secret.id)
    throw new UsageError(`invalid secret "${spec}": id is required`, { hint: 'use id=NAME,src=FILE' });
  if (secret.type === 'env' && secret.src !== undefined && secret.env === undefined) {
    secret.env = secret.src;
    delete secret.src;
  }
  const { id, src, env } = secret;
  if (src === undefined && env === undefined) {
    return process.env[id] !== undefined ? { id, env: id } : { id, src: id };
  }
  return { id, ...(src === undefined ? {} : { src }), ...(env === undefined ? {} : { env }) };
}

/** Reads every secret's value now, so a missing file fails the build before anything runs. */
export async function readSecrets(flags: SecretFlag[]): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  for (const flag of flags) {
    if (flag.src !== undefined) {
      const data = await readFile(flag.src).catch((error: unknown) => {
        throw pathError(error, flag.src as string, `the file of secret ${flag.id} (--secret)`, 125);
      });
      values.set(flag.id, data);
    } else {
      const value = process.env[flag.env as string];
      if (value === undefined)
        throw new UsageError(`secret ${flag.id}: environment variable ${flag.env} is not set`);
      values.set(flag.id, Buffer.from(value));
    }
  }
  return values;
}
