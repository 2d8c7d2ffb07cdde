// Where `tbuild build` reads its Dockerfile from: `-f FILE`, `-f -` (standard input), or the
// context's Dockerfile.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BuildError } from '../frontend/index.ts';
import { requireFile } from '../user-paths.ts';

/** Finds the Dockerfile: `-f`, else `Dockerfile`, else `dockerfile` in the context (BuildKit's lookup). */
export async function locateDockerfile(file: string | undefined, contextDir: string): Promise<string> {
  if (file !== undefined) {
    await requireFile(file, 'a Dockerfile (-f)');
    return resolve(file);
  }
  for (const name of ['Dockerfile', 'dockerfile']) {
    const path = join(contextDir, name);
    if (
      await stat(path).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return path;
  }
  throw new BuildError(
    `failed to read dockerfile: open ${join(contextDir, 'Dockerfile')}: no such file or directory`,
  );
}

/** `-f -`: the Dockerfile from standard input. */
export async function readStdin(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
