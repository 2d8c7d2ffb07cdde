import { TbuildError } from '../errors.ts';

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

/**
 * The build's SOURCE_DATE_EPOCH in seconds, or undefined when unset or empty. BuildKit refuses a
 * value that is not a base-10 integer (frontend/dockerui/config.go parseSourceDateEpoch:
 * "invalid SOURCE_DATE_EPOCH: …").
 */
export function sourceDateEpoch(buildArgs: Record<string, string>): number | undefined {
  const value = buildArgs[name];
  if (value === undefined || value === '') return undefined;
  const seconds = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || Math.abs(seconds) > 8.64e12) {
    throw new TbuildError(`invalid SOURCE_DATE_EPOCH: ${value}`, {
      hint: 'give whole seconds since 1970-01-01 UTC, e.g. $(git log -1 --pretty=%ct)',
    });
  }
  return seconds;
}

/**
 * The epoch as the image config writes times: RFC 3339 in UTC, fraction omitted when zero, as Go's
 * time.Time marshals `time.Unix(epoch, 0).UTC()` (2023-11-14T22:13:20Z for 1700000000).
 */
export function epochTimestamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
