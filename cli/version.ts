import { arch, platform } from 'node:os';
// The version is package.json's: one place to bump (esbuild inlines the JSON into the bundle).
import packageJson from '../package.json' with { type: 'json' };

/** `tbuild --version`: one line, as `docker --version` prints it. */
export function versionLine(): string {
  return `tbuild version ${packageJson.version}`;
}

/** `tbuild version`: the client's details, as `docker version` shows its Client section. */
export function printVersion(out: NodeJS.WritableStream): void {
  const goArch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386' };
  out.write(
    [
      'Client:',
      ` Version:           ${packageJson.version}`,
      ` Node version:      ${process.version}`,
      ` OS/Arch:           ${platform()}/${goArch[arch()] ?? arch()}`,
      '',
    ].join('\n'),
  );
}
