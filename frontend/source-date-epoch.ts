/**
 * SOURCE_DATE_EPOCH as a build arg, read as BuildKit's dockerfile frontend reads it
 * (frontend/dockerui/config.go): the seconds, and the stamp the image config and history get.
 * cli/build-epoch.ts brings the variable over from the environment.
 */
import { TbuildError } from '../errors.ts';

const name = 'SOURCE_DATE_EPOCH';

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
