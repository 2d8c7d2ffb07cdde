import { UsageError } from '../../errors.ts';
import { resolveRoot } from '../../image/index.ts';
import { connectRegistry, normalizeRegistryHost, saveCredentials } from '../../registry/index.ts';
import type { Command } from '../command.ts';
import { commandUsageError, parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild login [OPTIONS] SERVER

Log in to a registry (credentials are stored in ~/.docker/config.json, or $DOCKER_CONFIG)

Options:
      --insecure-registry stringArray   Allow plain http for this registry host
  -p, --password string                 Password
      --password-stdin                  Take the password from stdin
  -u, --username string                 Username
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream)
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return text;
}

/** `tbuild login [-u USER] [--password-stdin] SERVER` (docker login; checks the credentials first). */
export const loginCommand: Command = {
  summary: 'Log in to a registry',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'login',
      usage,
      options: {
        username: { type: 'string', short: 'u' },
        password: { type: 'string', short: 'p' },
        'password-stdin': { type: 'boolean' },
        'insecure-registry': { type: 'string', multiple: true },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    if (values['password-stdin'] && values.password !== undefined) {
      throw new UsageError('--password and --password-stdin are mutually exclusive');
    }
    const username = values.username;
    let password = values.password;
    if (values['password-stdin']) {
      if (username === undefined) throw new UsageError('Must provide --username with --password-stdin');
      password = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
    }
    if (username === undefined || password === undefined || username === '' || password === '') {
      throw commandUsageError('login', 'username and password are required (-u USER and --password-stdin)');
    }
    const host = normalizeRegistryHost(positionals[0] as string);
    const client = await connectRegistry(host, {
      root: resolveRoot(ctx.globals.root),
      insecureRegistries: values['insecure-registry'] ?? [],
      credentials: { username, password },
    });
    await client.ping();
    await saveCredentials(host, { username, password });
    ctx.stdout.write('Login Succeeded\n');
    return 0;
  },
};
