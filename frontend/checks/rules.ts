// The build-check rules: name, description, documentation page and message, word for word as
// current BuildKit has them (frontend/dockerfile/linter/ruleset.go; the two EXPOSE rules from
// frontend/dockerfile/docs/rules/). Where each rule is checked lives in the files beside this one.

/** A rule as BuildKit declares it. `experimental` rules run only when `# check=experimental=` names them. */
export interface CheckRule {
  name: string;
  description: string;
  url: string;
  experimental?: boolean;
}

const docs = 'https://docs.docker.com/go/dockerfile/rule/';

function rule(name: string, page: string, description: string, experimental = false): CheckRule {
  return { name, description, url: `${docs}${page}/`, ...(experimental ? { experimental } : {}) };
}

export const rules = {
  StageNameCasing: rule('StageNameCasing', 'stage-name-casing', 'Stage names should be lowercase'),
  FromAsCasing: rule(
    'FromAsCasing',
    'from-as-casing',
    "The 'as' keyword should match the case of the 'from' keyword",
  ),
  NoEmptyContinuation: rule(
    'NoEmptyContinuation',
    'no-empty-continuation',
    'Empty continuation lines will become errors in a future release',
  ),
  ConsistentInstructionCasing: rule(
    'ConsistentInstructionCasing',
    'consistent-instruction-casing',
    'All commands within the Dockerfile should use the same casing (either upper or lower)',
  ),
  DuplicateStageName: rule('DuplicateStageName', 'duplicate-stage-name', 'Stage names should be unique'),
  ReservedStageName: rule(
    'ReservedStageName',
    'reserved-stage-name',
    'Reserved words should not be used as stage names',
  ),
  JSONArgsRecommended: rule(
    'JSONArgsRecommended',
    'json-args-recommended',
    'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
  ),
  MaintainerDeprecated: rule(
    'MaintainerDeprecated',
    'maintainer-deprecated',
    'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
  ),
  UndefinedArgInFrom: rule(
    'UndefinedArgInFrom',
    'undefined-arg-in-from',
    'FROM command must use declared ARGs',
  ),
  WorkdirRelativePath: rule(
    'WorkdirRelativePath',
    'workdir-relative-path',
    'Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes',
  ),
  UndefinedVar: rule('UndefinedVar', 'undefined-var', 'Variables should be defined before their use'),
  MultipleInstructionsDisallowed: rule(
    'MultipleInstructionsDisallowed',
    'multiple-instructions-disallowed',
    'Multiple instructions of the same type should not be used in the same stage',
  ),
  LegacyKeyValueFormat: rule(
    'LegacyKeyValueFormat',
    'legacy-key-value-format',
    'Legacy key/value format with whitespace separator should not be used',
  ),
  RedundantTargetPlatform: rule(
    'RedundantTargetPlatform',
    'redundant-target-platform',
    'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
  ),
  SecretsUsedInArgOrEnv: rule(
    'SecretsUsedInArgOrEnv',
    'secrets-used-in-arg-or-env',
    'Sensitive data should not be used in the ARG or ENV commands',
  ),
  InvalidDefaultArgInFrom: rule(
    'InvalidDefaultArgInFrom',
    'invalid-default-arg-in-from',
    'Default value for global ARG results in an empty or invalid base image name',
  ),
  FromPlatformFlagConstDisallowed: rule(
    'FromPlatformFlagConstDisallowed',
    'from-platform-flag-const-disallowed',
    'FROM --platform flag should not use a constant value',
  ),
  CopyIgnoredFile: rule(
    'CopyIgnoredFile',
    'copy-ignored-file',
    'Attempting to Copy file that is excluded by .dockerignore',
    true,
  ),
  InvalidDefinitionDescription: rule(
    'InvalidDefinitionDescription',
    'invalid-definition-description',
    'Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.',
    true,
  ),
  ExposeProtoCasing: rule(
    'ExposeProtoCasing',
    'expose-proto-casing',
    'Protocol in EXPOSE instruction should be lowercase',
  ),
  ExposeInvalidFormat: rule(
    'ExposeInvalidFormat',
    'expose-invalid-format',
    'IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release',
  ),
} satisfies Record<string, CheckRule>;

type RuleName = keyof typeof rules;

/** The messages, as BuildKit's `Format` functions write them (Go's %q is JSON quoting for this text). */
export const messages = {
  StageNameCasing: (name: string) => `Stage name '${name}' should be lowercase`,
  FromAsCasing: (from: string, as: string) => `'${as}' and '${from}' keywords' casing do not match`,
  NoEmptyContinuation: () => 'Empty continuation line',
  ConsistentInstructionCasing: (command: string, casing: 'lowercase' | 'uppercase') =>
    `Command '${command}' should match the case of the command majority (${casing})`,
  DuplicateStageName: (name: string) =>
    `Duplicate stage name ${JSON.stringify(name)}, stage names should be unique`,
  ReservedStageName: (name: string) =>
    `Stage name should not use the same name as reserved stage ${JSON.stringify(name)}`,
  JSONArgsRecommended: (instruction: string) =>
    `JSON arguments recommended for ${instruction} to prevent unintended behavior related to OS signals`,
  MaintainerDeprecated: () => 'Maintainer instruction is deprecated in favor of using label',
  UndefinedArgInFrom: (arg: string, suggestion: string | undefined) =>
    `FROM argument '${arg}' is not declared${suggestion ? ` (did you mean ${suggestion}?)` : ''}`,
  WorkdirRelativePath: (workdir: string) =>
    `Relative workdir ${JSON.stringify(workdir)} can have unexpected results if the base image changes`,
  UndefinedVar: (name: string, suggestion: string | undefined) =>
    `Usage of undefined variable '$${name}'${suggestion ? ` (did you mean $${suggestion}?)` : ''}`,
  MultipleInstructionsDisallowed: (instruction: string) =>
    `Multiple ${instruction} instructions should not be used in the same stage because only the last one will be used`,
  LegacyKeyValueFormat: (instruction: string) =>
    `"${instruction} key=value" should be used instead of legacy "${instruction} key value" format`,
  RedundantTargetPlatform: (platform: string) =>
    `Setting platform to predefined ${platform} in FROM is redundant as this is the default behavior`,
  SecretsUsedInArgOrEnv: (instruction: string, key: string) =>
    `Do not use ARG or ENV instructions for sensitive data (${instruction} ${JSON.stringify(key)})`,
  InvalidDefaultArgInFrom: (base: string) =>
    `Default value for ARG ${base} results in empty or invalid base image name`,
  FromPlatformFlagConstDisallowed: (platform: string) =>
    `FROM --platform flag should not use constant value ${JSON.stringify(platform)}`,
  CopyIgnoredFile: (instruction: 'Copy' | 'Add', file: string) =>
    `Attempting to ${instruction} file ${JSON.stringify(file)} that is excluded by .dockerignore`,
  InvalidDefinitionDescription: (instruction: string, name: string) =>
    `Comment for ${instruction} should follow the format: \`# ${name} <description>\``,
  ExposeProtoCasing: (port: string) => `Defined protocol '${port}' in EXPOSE instruction should be lowercase`,
  ExposeInvalidFormat: (port: string) =>
    `EXPOSE instruction should not define an IP address or host-port mapping, found '${port}'`,
} satisfies Record<RuleName, (...args: never[]) => string>;
