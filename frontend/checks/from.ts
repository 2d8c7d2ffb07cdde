// The FROM line's variables and platform, checked for every stage before any is converted:
// UndefinedArgInFrom, InvalidDefaultArgInFrom, RedundantTargetPlatform and
// FromPlatformFlagConstDisallowed. BuildKit: dockerfile2llb toDispatchState (reportUnusedFromArgs,
// validateBaseImagesWithDefaultArgs, reportRedundantTargetPlatform, reportConstPlatformDisallowed).
// The one value frontend/ takes from image/: the pure reference grammar, no store code (BuildKit's
// check uses distribution/reference the same way). The rest of the edge is type-only (convert-types.ts).
import { parseReference } from '../../image/index.ts';
import {
  type ArgCommand,
  expandWordWithMatches,
  type Range,
  type ShellExpansion,
  type Stage,
} from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';
import { searchSuggestion } from './suggest.ts';

interface FromCheckInput {
  stages: readonly Stage[];
  metaArgs: readonly ArgCommand[];
  /** `fromRanges[i]` is stage i's FROM line. */
  fromRanges: readonly Range[];
  buildArgs: Readonly<Record<string, string>>;
  /** TARGETPLATFORM, BUILDOS, … as the build sets them. */
  platformArgs: ReadonlyMap<string, string>;
  escape: '\\' | '`';
}

export function checkFromLines(input: FromCheckInput, linter: Linter): void {
  checkDefaultBaseNames(input, linter);
  const env = metaArgEnv(input, input.buildArgs);
  if (env === undefined) return;
  // Declared global ARGs count even without a value; so do the platform args.
  const known = [...input.platformArgs.keys(), ...input.metaArgs.flatMap((c) => c.args.map((a) => a.key))];
  const knownSet = new Set([...known, ...env.keys()]);
  const reportUndeclared = (result: ShellExpansion, range: Range) => {
    for (const name of result.unmatched) {
      if (knownSet.has(name)) continue;
      linter.report(
        rules.UndefinedArgInFrom,
        messages.UndefinedArgInFrom(name, searchSuggestion(name, knownSet)),
        range,
      );
    }
  };
  for (const stage of input.stages) {
    const range = input.fromRanges[stage.index] ?? stage.range;
    const base = expandQuietly(stage.base, env, input.escape);
    if (base) reportUndeclared(base, range);
    if (stage.platform === undefined || stage.platform === '') continue;
    const platform = expandQuietly(stage.platform, env, input.escape);
    if (platform === undefined) continue;
    reportUndeclared(platform, range);
    if (
      platform.matched.size === 1 &&
      platform.unmatched.size === 0 &&
      platform.matched.has('TARGETPLATFORM') &&
      platform.word === env.get('TARGETPLATFORM')
    ) {
      linter.report(rules.RedundantTargetPlatform, messages.RedundantTargetPlatform(stage.platform), range);
    }
    if (platform.matched.size === 0 && platform.unmatched.size === 0) {
      const parsed = parsePlatform(platform.word);
      const name = stage.name ?? '';
      if (parsed && !name.includes(parsed.os) && !name.includes(parsed.architecture)) {
        linter.report(
          rules.FromPlatformFlagConstDisallowed,
          messages.FromPlatformFlagConstDisallowed(platform.word),
          range,
        );
      }
    }
  }
}

/** InvalidDefaultArgInFrom: with no --build-arg at all, every base name must still be an image reference. */
function checkDefaultBaseNames(input: FromCheckInput, linter: Linter): void {
  const env = metaArgEnv(input, {});
  if (env === undefined) return;
  for (const stage of input.stages) {
    const expanded = expandQuietly(stage.base, env, input.escape);
    if (expanded === undefined) return; // BuildKit gives up on the rule at the first failing word
    try {
      parseReference(expanded.word);
    } catch {
      const range = input.fromRanges[stage.index] ?? stage.range;
      linter.report(rules.InvalidDefaultArgInFrom, messages.InvalidDefaultArgInFrom(stage.base), range);
    }
  }
}

/** The global ARGs in effect for FROM lines (BuildKit buildMetaArgs), or undefined if one fails to expand. */
function metaArgEnv(
  input: FromCheckInput,
  buildArgs: Readonly<Record<string, string>>,
): Map<string, string> | undefined {
  const env = new Map(input.platformArgs);
  for (const command of input.metaArgs) {
    for (const { key, value } of command.args) {
      if (key in buildArgs) env.set(key, buildArgs[key] as string);
      else if (value !== undefined) {
        const expanded = expandQuietly(value, env, input.escape);
        if (expanded === undefined) return undefined;
        env.set(key, expanded.word);
      }
    }
  }
  return env;
}

function expandQuietly(
  word: string,
  env: ReadonlyMap<string, string>,
  escapeChar: '\\' | '`',
): ShellExpansion | undefined {
  try {
    return expandWordWithMatches(word, env, { escapeChar });
  } catch {
    return undefined; // the conversion reports the error itself
  }
}

const knownOs = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'hurd',
  'illumos',
  'ios',
  'js',
  'linux',
  'nacl',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'wasip1',
  'windows',
  'zos',
]);
const archAliases: Record<string, string> = {
  i386: '386',
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
};
const knownArch = new Set([
  '386',
  'amd64',
  'arm',
  'arm64',
  'loong64',
  'mips',
  'mips64',
  'mips64le',
  'mipsle',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390x',
  'sparc64',
  'wasm',
  ...Object.keys(archAliases),
]);

/**
 * A platform as containerd's platforms.Parse reads it, enough to know its OS and architecture:
 * `os`, `arch`, `os/arch[/variant]`; undefined when Parse would fail.
 */
export function parsePlatform(spec: string): { os: string; architecture: string } | undefined {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((part) => !/^[A-Za-z0-9_.-]+$/.test(part))) return undefined;
  const os = (parts[0] as string).toLowerCase().replace(/^macos$/, 'darwin');
  const arch = (name: string) => archAliases[name.toLowerCase()] ?? name.toLowerCase();
  if (parts.length === 1) {
    if (knownOs.has(os)) return { os, architecture: 'amd64' };
    if (knownArch.has(os)) return { os: 'linux', architecture: arch(os) };
    return undefined;
  }
  return { os, architecture: arch(parts[1] as string) };
}
