const name = 'SOURCE_DATE_EPOCH';

/**
 * `SOURCE_DATE_EPOCH` from the environment of `tbuild build` becomes the build arg of that name
 * unless `--build-arg SOURCE_DATE_EPOCH=…` gave one, as buildx (>= 0.10) and buildctl (>= 0.13)
 * propagate it (BuildKit docs/build-repro.md). As a build arg it reaches `ARG SOURCE_DATE_EPOCH`
 * and so RUN, like any other.
 */
export function withEnvironmentEpoch(
  buildArgs: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const value = env[name];
  if (value === undefined || name in buildArgs) return buildArgs;
  return { ...buildArgs, [name]: value };
}
