// The check configuration (`# check=` and BUILDKIT_DOCKERFILE_CHECK) and the linter that rules
// report to. BuildKit: frontend/dockerfile/linter/linter.go (ParseLintOptions, Linter.Run, Error).
import type { Range } from '../../parser/index.ts';
import type { CheckRule } from './rules.ts';

/** What `skip=`, `experimental=` and `error=` asked for. */
export interface CheckConfig {
  skip: ReadonlySet<string>;
  skipAll: boolean;
  experimental: ReadonlySet<string>;
  experimentalAll: boolean;
  /** `error=true`: the build fails after conversion when any rule reported. */
  error: boolean;
}

/** Where a warning points: the instruction's first line (and column) to its last line. */
export interface CheckLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
}

/**
 * One rule violation, as plain data: BuildKit's lint.Warning (ruleName, description, url,
 * detail = `message`, location). Renderers print `rule: message (line N)`.
 */
export interface CheckWarning {
  rule: string;
  description: string;
  url: string;
  message: string;
  location: CheckLocation;
}

/** A `# check=` or BUILDKIT_DOCKERFILE_CHECK value that BuildKit would refuse. */
export class CheckOptionError extends Error {}

const defaultConfig: CheckConfig = {
  skip: new Set(),
  skipAll: false,
  experimental: new Set(),
  experimentalAll: false,
  error: false,
};

/**
 * Parses `skip=A,B;experimental=C;error=true` as BuildKit's ParseLintOptions does: at most three
 * `;`-separated parts (a fourth stays in the third's value), keys and values trimmed, `all` for
 * every rule, `error` read like Go's strconv.ParseBool.
 */
export function parseCheckOptions(text: string | undefined): CheckConfig {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return defaultConfig;
  const parts = splitN(trimmed, ';', 3);
  const config = { ...defaultConfig };
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new CheckOptionError(`invalid check option ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    switch (key) {
      case 'skip':
      case 'experimental': {
        const all = value === 'all';
        const names = new Set(all ? [] : value.split(',').map((name) => name.trim()));
        if (key === 'skip') Object.assign(config, { skipAll: all, skip: names });
        else Object.assign(config, { experimentalAll: all, experimental: names });
        break;
      }
      case 'error': {
        const bool = parseGoBool(value);
        if (bool === undefined) {
          throw new CheckOptionError(
            `failed to parse check option ${JSON.stringify(part)}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
          );
        }
        config.error = bool;
        break;
      }
      default:
        throw new CheckOptionError(`invalid check option ${JSON.stringify(key)}`);
    }
  }
  return config;
}

/**
 * The configuration in force: the BUILDKIT_DOCKERFILE_CHECK build arg replaces the `# check=`
 * directive entirely (dockerui's LinterConfig wins over the directive in newRuleLinter). Throws
 * CheckOptionError with BuildKit's wording for either.
 */
export function checkConfigFor(directive: string | undefined, buildArg: string | undefined): CheckConfig {
  if (buildArg !== undefined) {
    try {
      return parseCheckOptions(buildArg);
    } catch (error) {
      throw new CheckOptionError(
        `failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK: ${(error as Error).message}`,
      );
    }
  }
  try {
    return parseCheckOptions(directive);
  } catch (error) {
    throw new CheckOptionError(`failed to parse check options: ${(error as Error).message}`);
  }
}

/** Collects warnings for one Dockerfile; rules call `report`, the config decides what is kept. */
export class Linter {
  readonly warnings: CheckWarning[] = [];
  private readonly reported: string[] = [];

  readonly config: CheckConfig;
  readonly file: string;
  private readonly onWarning: ((warning: CheckWarning) => void) | undefined;

  constructor(config: CheckConfig, file: string, onWarning?: (warning: CheckWarning) => void) {
    this.config = config;
    this.file = file;
    this.onWarning = onWarning;
  }

  /** Whether `rule` runs at all (an experimental one only when named, whatever `skip` says). */
  enabled(rule: CheckRule): boolean {
    if (rule.experimental) return this.config.experimentalAll || this.config.experimental.has(rule.name);
    return !this.config.skipAll && !this.config.skip.has(rule.name);
  }

  report(rule: CheckRule, message: string, range: Range): void {
    if (!this.enabled(rule)) return;
    if (!this.reported.includes(rule.name)) this.reported.push(rule.name);
    const warning: CheckWarning = {
      rule: rule.name,
      description: rule.description,
      url: rule.url,
      message,
      location: { file: this.file, line: range.start.line, column: range.start.col, endLine: range.end.line },
    };
    this.warnings.push(warning);
    this.onWarning?.(warning);
  }

  /**
   * With `error=true` and any rule reported: BuildKit's "lint violation found for rules: …"
   * (its rules come from a Go map, in no order; here in the order first reported).
   */
  violation(): string | undefined {
    if (!this.config.error || this.reported.length === 0) return undefined;
    return `lint violation found for rules: ${this.reported.join(', ')}`;
  }
}

/** BuildKit's LintFormatShort: `Rule: message (line N)`, what progress output shows. */
export function formatWarningShort(warning: Pick<CheckWarning, 'rule' | 'message' | 'location'>): string {
  const line = warning.location.line > 0 ? ` (line ${warning.location.line})` : '';
  return `${warning.rule}: ${warning.message}${line}`;
}

function splitN(text: string, separator: string, n: number): string[] {
  const parts = text.split(separator);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator)];
}

function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}
