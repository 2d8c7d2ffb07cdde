// Public surface of frontend/: Dockerfile instructions -> build graph, and the build context filter.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.

export {
  type CheckConfig,
  type CheckLocation,
  CheckOptionError,
  Checks,
  type CheckWarning,
  checkConfigFor,
  descriptionComments,
  formatWarningShort,
  parseCheckOptions,
  rules as checkRules,
} from './checks/index.ts';
export { fingerprintContextPath, type PathFingerprint } from './context-fingerprint.ts';
export {
  BuildContextError,
  type ContextEntry,
  type ContextEntryType,
  type ContextStat,
  compareCodePoints,
  type LoadedDockerignore,
  readDockerignore,
  scanContext,
} from './context-walk.ts';
export { convert } from './convert.ts';
export type {
  BuildDefinition,
  ConvertOptions,
  NamedContext,
  PendingHistory,
  Platform,
  ResolvedImage,
} from './convert-types.ts';
export { platformArgValues } from './dispatch-from.ts';
export {
  cleanPath,
  compileDockerignore,
  DockerignoreError,
  type DockerignoreMatcher,
  type IgnorePattern,
  type MatchState,
  parseDockerignore,
  parseDockerignoreLines,
} from './dockerignore.ts';
export { BuildError } from './errors.ts';
export { namedContextKey } from './named-contexts.ts';
export {
  listTargets,
  type Outline,
  type OutlineArg,
  type OutlineOptions,
  type OutlineSecret,
  type OutlineTarget,
  outlineTarget,
} from './outline.ts';
export { epochTimestamp, sourceDateEpoch } from './source-date-epoch.ts';
export { type SyntaxNote, syntaxDirectiveNote } from './syntax-directive.ts';
