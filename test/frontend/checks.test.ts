// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the cases are Dockerfile text, where ${VAR} is literal
// Build checks (issue 14): BuildKit's frontend/dockerfile/dockerfile_lint_test.go cases, ported as
// data, plus our own negative and positive case for each rule. Each case runs twice, as BuildKit's
// do: as a build (only the stages the target needs are dispatched: `warnings`) and as
// `--call=check` (every stage: `checkWarnings`, when it differs). Pure: fake base images.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CheckOptionError,
  Checks,
  checkConfigFor,
  checkRules,
  convert,
  formatWarningShort,
  parseCheckOptions,
  type ResolvedImage,
} from '../../frontend/index.ts';
import type { ContainerConfig } from '../../image/index.ts';
import { parseDockerfile } from '../../parser/index.ts';

interface LintCase {
  name: string;
  dockerfile: string;
  buildArgs?: Record<string, string>;
  target?: string;
  dockerignore?: string[];
  /** Base images by reference as written; any other reference is a busybox-like image. */
  images?: Record<string, ContainerConfig>;
  /** `Rule line message`, sorted by line then message. */
  warnings: string[];
  /** What `--call=check` finds when it differs from a build. */
  checkWarnings?: string[];
  /** The build fails with this (after reporting the warnings). */
  error?: string | RegExp;
}

const busybox: ContainerConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
};

async function lint(c: LintCase, allStages: boolean): Promise<{ warnings: string[]; error?: string }> {
  const ast = parseDockerfile(c.dockerfile, { file: 'Dockerfile' });
  const buildArgs = c.buildArgs ?? {};
  const checks = new Checks(ast, {
    config: checkConfigFor(ast.directives.check, buildArgs.BUILDKIT_DOCKERFILE_CHECK),
  });
  let error: string | undefined;
  try {
    await convert(checks.instructions(), {
      file: 'Dockerfile',
      escape: ast.escape,
      ...(c.target !== undefined ? { target: c.target } : {}),
      buildArgs,
      labels: {},
      platform: { os: 'linux', architecture: 'amd64' },
      context: { dir: '/context', excludes: c.dockerignore ?? [] },
      noCacheStages: [],
      created: '2024-01-01T00:00:00Z',
      resolveImage: async (ref): Promise<ResolvedImage> => ({
        ref,
        manifest: `sha256:${'0'.repeat(64)}`,
        config: {
          architecture: 'amd64',
          os: 'linux',
          config: c.images?.[ref] ?? busybox,
          rootfs: { type: 'layers', diff_ids: [] },
          history: [],
        },
      }),
      checks,
      allStages,
    });
  } catch (e) {
    error = (e as Error).message;
  }
  const warnings = [...checks.warnings]
    .sort((a, b) => a.location.line - b.location.line || (a.message < b.message ? -1 : 1))
    .map((w) => `${w.rule} ${w.location.line} ${w.message}`);
  return error === undefined ? { warnings } : { warnings, error };
}

const cases: LintCase[] = [
  // testRuleCheckOption
  ...[
    '#check=skip=all',
    '#check=skip=all;error=true',
    '#check=skip=ConsistentInstructionCasing,FromAsCasing',
  ].map(
    (directive): LintCase => ({
      name: `${directive} reports nothing`,
      dockerfile: `${directive}\nFROM scratch as base\ncopy Dockerfile .\n`,
      warnings: [],
    }),
  ),
  {
    name: 'skip=A,B;error=true with both skipped: no warning, no error',
    dockerfile:
      '#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'skip one rule: the other still reports',
    dockerfile: '#check=skip=ConsistentInstructionCasing\nFROM scratch as base\ncopy Dockerfile .\n',
    warnings: ["FromAsCasing 2 'as' and 'FROM' keywords' casing do not match"],
  },
  {
    name: 'error=true fails the build with the rules that reported',
    dockerfile:
      '#check=skip=ConsistentInstructionCasing;error=true\nFROM scratch as base\ncopy Dockerfile .\n',
    warnings: ["FromAsCasing 2 'as' and 'FROM' keywords' casing do not match"],
    error: 'lint violation found for rules: FromAsCasing',
  },
  {
    name: 'BUILDKIT_DOCKERFILE_CHECK replaces the directive (skip=all there, error=true here)',
    dockerfile: '#check=skip=all\nFROM scratch as base\ncopy Dockerfile .\n',
    buildArgs: { BUILDKIT_DOCKERFILE_CHECK: 'skip=ConsistentInstructionCasing;error=true' },
    warnings: ["FromAsCasing 2 'as' and 'FROM' keywords' casing do not match"],
    error: 'lint violation found for rules: FromAsCasing',
  },
  {
    name: 'BUILDKIT_DOCKERFILE_CHECK=skip=all over #check=error=true',
    dockerfile: '#check=error=true\nFROM scratch as base\ncopy Dockerfile .\n',
    buildArgs: { BUILDKIT_DOCKERFILE_CHECK: 'skip=all' },
    warnings: [],
  },
  // testStageName
  {
    name: 'StageNameCasing and FromAsCasing',
    dockerfile:
      "\n# warning: stage name should be lowercase\n#\nFROM scratch AS BadStageName\n\n# warning: 'as' should match 'FROM' cmd casing.\n#\nFROM scratch as base2\n\nFROM scratch AS base3\n",
    warnings: [
      "StageNameCasing 4 Stage name 'BadStageName' should be lowercase",
      "FromAsCasing 8 'as' and 'FROM' keywords' casing do not match",
    ],
  },
  {
    name: 'FromAsCasing with a lowercase from',
    dockerfile: '\n#\nfrom scratch AS base\n\nfrom scratch as base2\n',
    warnings: ["FromAsCasing 3 'AS' and 'from' keywords' casing do not match"],
  },
  // testNoEmptyContinuation
  {
    name: 'NoEmptyContinuation at the last line of the instruction',
    dockerfile:
      '\nFROM scratch\n# warning: empty continuation line\nCOPY Dockerfile \\\n\n.\nCOPY Dockerfile \\\n.\n',
    warnings: ['NoEmptyContinuation 6 Empty continuation line'],
  },
  // testConsistentInstructionCasing
  {
    name: 'mixed-case From against an uppercase majority',
    dockerfile: '\n#\nFrom scratch as base\nFROM scratch AS base2\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'From' should match the case of the command majority (uppercase)",
    ],
  },
  {
    name: 'copy against an uppercase majority',
    dockerfile: '\nFROM scratch\ncopy Dockerfile /foo\nCOPY Dockerfile /bar\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'copy' should match the case of the command majority (uppercase)",
    ],
  },
  {
    name: 'frOM against a lowercase majority',
    dockerfile: '\n#\nfrOM scratch as base\nfrom scratch as base2\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'frOM' should match the case of the command majority (lowercase)",
    ],
  },
  {
    name: 'COPY against a lowercase majority',
    dockerfile: '\nfrom scratch\nCOPY Dockerfile /foo\ncopy Dockerfile /bar\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'COPY' should match the case of the command majority (lowercase)",
    ],
  },
  {
    name: 'from against an uppercase majority',
    dockerfile: '\n#\nfrom scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\nCOPY Dockerfile /baz\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'from' should match the case of the command majority (uppercase)",
    ],
  },
  {
    name: 'FROM against a lowercase majority',
    dockerfile: '\n#\nFROM scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\ncopy Dockerfile /baz\n',
    warnings: [
      "ConsistentInstructionCasing 3 Command 'FROM' should match the case of the command majority (lowercase)",
    ],
  },
  {
    name: 'a tie counts as an uppercase majority',
    dockerfile: 'from scratch\nCOPY a /a\n',
    warnings: [
      "ConsistentInstructionCasing 1 Command 'from' should match the case of the command majority (uppercase)",
    ],
  },
  {
    name: 'all lowercase',
    dockerfile: '\nfrom scratch\ncopy Dockerfile /foo\ncopy Dockerfile /bar\n',
    warnings: [],
  },
  {
    name: 'all uppercase',
    dockerfile: '\nFROM scratch\nCOPY Dockerfile /foo\nCOPY Dockerfile /bar\n',
    warnings: [],
  },
  {
    name: 'a heredoc body is not an instruction',
    dockerfile: "\nFROM busybox\nRUN <<'EOT'\nenv\nEOT\n",
    warnings: [],
  },
  {
    name: 'global ARGs before the first FROM are not counted',
    dockerfile: 'arg x=1\narg y=2\narg z=3\nFROM scratch\nCOPY a /a\n',
    warnings: [],
  },
  // testDuplicateStageName
  {
    name: 'DuplicateStageName is a warning, the build goes on',
    dockerfile: '\nFROM scratch AS b\nFROM scratch AS b\n',
    warnings: ['DuplicateStageName 3 Duplicate stage name "b", stage names should be unique'],
  },
  { name: 'distinct stage names', dockerfile: '\nFROM scratch AS b1\nFROM scratch AS b2\n', warnings: [] },
  // testReservedStageName
  {
    name: 'ReservedStageName',
    dockerfile: '\nFROM scratch AS scratch\nFROM scratch AS context\n',
    warnings: [
      'ReservedStageName 2 Stage name should not use the same name as reserved stage "scratch"',
      'ReservedStageName 3 Stage name should not use the same name as reserved stage "context"',
    ],
  },
  { name: 'reserved word as base only', dockerfile: '\nFROM scratch\nFROM scratch AS a\n', warnings: [] },
  // testJSONArgsRecommended
  {
    name: 'JSONArgsRecommended for CMD',
    dockerfile: '\nFROM scratch\nCMD mycommand\n',
    warnings: [
      'JSONArgsRecommended 3 JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
    ],
  },
  {
    name: 'JSONArgsRecommended for ENTRYPOINT',
    dockerfile: '\nFROM scratch\nENTRYPOINT mycommand\n',
    warnings: [
      'JSONArgsRecommended 3 JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals',
    ],
  },
  ...['CMD', 'ENTRYPOINT'].flatMap((cmd): LintCase[] => [
    {
      name: `${cmd} after SHELL`,
      dockerfile: `\nFROM scratch\nSHELL ["/usr/bin/customshell"]\n${cmd} mycommand\n`,
      warnings: [],
    },
    {
      name: `${cmd} in a stage whose parent set SHELL`,
      dockerfile: `\nFROM scratch AS base\nSHELL ["/usr/bin/customshell"]\n\nFROM base\n${cmd} mycommand\n`,
      warnings: [],
    },
  ]),
  {
    name: 'CMD on a base image whose config has a Shell',
    dockerfile: 'FROM shelly\nCMD mycommand\n',
    images: { shelly: { ...busybox, Shell: ['/bin/bash', '-c'] } },
    warnings: [],
  },
  { name: 'exec-form CMD', dockerfile: 'FROM scratch\nCMD ["mycommand"]\n', warnings: [] },
  // testMaintainerDeprecated
  {
    name: 'MaintainerDeprecated',
    dockerfile: '\nFROM scratch\nMAINTAINER me@example.org\n',
    warnings: ['MaintainerDeprecated 3 Maintainer instruction is deprecated in favor of using label'],
  },
  {
    name: 'an authors label instead',
    dockerfile: '\nFROM scratch\nLABEL org.opencontainers.image.authors="me@example.org"\n',
    warnings: [],
  },
  // testWarningsBeforeError
  {
    name: 'warnings before a parse error are still reported',
    dockerfile: '\nFROM scratch AS BadStageName\nMAINTAINER me@example.org\nBADCMD\n',
    warnings: [
      "StageNameCasing 2 Stage name 'BadStageName' should be lowercase",
      'MaintainerDeprecated 3 Maintainer instruction is deprecated in favor of using label',
    ],
    error: /unknown instruction: BADCMD/,
  },
  // testUndeclaredArg
  {
    name: 'FROM $base declared',
    dockerfile: '\nARG base=scratch\nFROM $base\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: '$BUILDPLATFORM redeclared',
    dockerfile:
      '\nARG BUILDPLATFORM=linux/amd64\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: '$BUILDPLATFORM predefined',
    dockerfile: '\nFROM --platform=$BUILDPLATFORM scratch\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'declared without a value',
    dockerfile: '\nARG DEBUG\nFROM scratch${DEBUG}\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'with a :- default',
    dockerfile: '\nARG DEBUG\nFROM scra${DEBUG:-tch}\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'with a - default',
    dockerfile: '\nARG DEBUG=""\nFROM scratch${DEBUG-@bogus}\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'UndefinedArgInFrom with a suggestion',
    dockerfile: '\nFROM --platform=$BULIDPLATFORM scratch\nCOPY Dockerfile .\n',
    warnings: [
      "UndefinedArgInFrom 2 FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)",
    ],
  },
  {
    name: 'UndefinedArgInFrom suggests a global ARG',
    dockerfile:
      '\nARG MY_OS=linux\nARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\nCOPY Dockerfile .\n',
    warnings: ["UndefinedArgInFrom 4 FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)"],
  },
  {
    name: 'UndefinedArgInFrom without a suggestion',
    dockerfile: '\nARG tag=latest\nFROM busybox:${tag}${version} AS b\nCOPY Dockerfile .\n',
    warnings: ["UndefinedArgInFrom 3 FROM argument 'version' is not declared"],
  },
  // testWorkdirRelativePath
  {
    name: 'WorkdirRelativePath',
    dockerfile: '\nFROM scratch\nWORKDIR app/\n',
    warnings: [
      'WorkdirRelativePath 3 Relative workdir "app/" can have unexpected results if the base image changes',
    ],
  },
  {
    name: 'a relative WORKDIR after an absolute one in the parent stage',
    dockerfile: '\nFROM scratch AS a\nWORKDIR /app\n\nFROM a AS b\nWORKDIR subdir/\n',
    warnings: [],
  },
  {
    name: 'only the first WORKDIR counts',
    dockerfile: 'FROM scratch\nWORKDIR app\nWORKDIR more\n',
    warnings: [
      'WorkdirRelativePath 2 Relative workdir "app" can have unexpected results if the base image changes',
    ],
  },
  {
    name: 'the WORKDIR as expanded',
    dockerfile: 'FROM scratch\nARG DIR=src\nWORKDIR $DIR\n',
    warnings: [
      'WorkdirRelativePath 3 Relative workdir "src" can have unexpected results if the base image changes',
    ],
  },
  // testUnmatchedVars
  {
    name: 'declared ARG without a value',
    dockerfile: '\nFROM scratch\nARG foo\nCOPY Dockerfile${foo} .\n',
    warnings: [],
  },
  {
    name: 'an ARG of the parent stage',
    dockerfile: '\nFROM busybox AS base\nARG foo=Dockerfile\n\nFROM base\nCOPY $foo .\n',
    warnings: [],
  },
  { name: 'RUN is expanded by the shell', dockerfile: '\nFROM busybox\nRUN echo $PATH\n', warnings: [] },
  {
    name: 'UndefinedVar before the ARG',
    dockerfile: '\nFROM busybox\nCOPY $foo .\nARG foo=bar\nRUN echo $foo\n',
    warnings: ["UndefinedVar 3 Usage of undefined variable '$foo'"],
  },
  {
    name: 'UndefinedVar with a suggestion',
    dockerfile:
      '\nFROM busybox\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nARG DIR_CONFIG=config/\nCOPY $DIR_ASSET .\n',
    warnings: ["UndefinedVar 6 Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)"],
  },
  {
    name: 'UndefinedVar suggests an ENV',
    dockerfile: '\nFROM busybox\nENV PATH=$PAHT:/tmp/bin\n',
    warnings: ["UndefinedVar 3 Usage of undefined variable '$PAHT' (did you mean $PATH?)"],
  },
  {
    name: 'UndefinedVar in a base image env is defined',
    dockerfile: 'FROM busybox\nUSER $HOME_USER\n',
    images: { busybox: { ...busybox, Env: [...(busybox.Env ?? []), 'HOME_USER=app'] } },
    warnings: [],
  },
  // testMultipleInstructionsDisallowed
  {
    name: 'MultipleInstructionsDisallowed, at the instruction that is lost',
    dockerfile:
      '\nFROM scratch\nENTRYPOINT ["/myapp"]\nENTRYPOINT ["/myotherapp"]\nCMD ["/myapp"]\nCMD ["/myotherapp"]\nHEALTHCHECK CMD ["/myapp"]\nHEALTHCHECK CMD ["/myotherapp"]\n',
    warnings: multiple([
      ['ENTRYPOINT', 3],
      ['CMD', 5],
      ['HEALTHCHECK', 7],
    ]),
  },
  {
    name: 'MultipleInstructionsDisallowed across other instructions',
    dockerfile:
      '\nFROM scratch\nENTRYPOINT ["/myapp"]\nCMD ["/myapp"]\nHEALTHCHECK CMD ["/myapp"]\nCOPY <<EOF /a.txt\nHello, World!\nEOF\nENTRYPOINT ["/myotherapp"]\nCMD ["/myotherapp"]\nHEALTHCHECK CMD ["/myotherapp"]\n',
    warnings: multiple([
      ['ENTRYPOINT', 3],
      ['CMD', 4],
      ['HEALTHCHECK', 5],
    ]),
  },
  {
    name: 'one each per stage',
    dockerfile:
      '\nFROM scratch AS a\nENTRYPOINT ["/myapp"]\nCMD ["/myapp"]\nHEALTHCHECK CMD ["/myapp"]\n\nFROM a AS b\nENTRYPOINT ["/myotherapp"]\nCMD ["/myotherapp"]\nHEALTHCHECK CMD ["/myotherapp"]\n',
    warnings: [],
  },
  // testLegacyKeyValueFormat
  {
    name: 'LegacyKeyValueFormat',
    dockerfile: '\nFROM scratch\nENV testkey value\nLABEL key value\n',
    warnings: [
      'LegacyKeyValueFormat 3 "ENV key=value" should be used instead of legacy "ENV key value" format',
      'LegacyKeyValueFormat 4 "LABEL key=value" should be used instead of legacy "LABEL key value" format',
    ],
  },
  { name: 'key=value', dockerfile: '\nFROM scratch\nENV testkey=value\nLABEL key=value\n', warnings: [] },
  {
    name: 'an unreachable stage is checked by --call=check only',
    dockerfile: '\nFROM scratch AS a\n\nFROM a AS b\nENV testkey value\nLABEL key value\n\nFROM a AS c\n',
    warnings: [],
    checkWarnings: [
      'LegacyKeyValueFormat 5 "ENV key=value" should be used instead of legacy "ENV key value" format',
      'LegacyKeyValueFormat 6 "LABEL key=value" should be used instead of legacy "LABEL key value" format',
    ],
  },
  // testRedundantTargetPlatform
  {
    name: 'RedundantTargetPlatform',
    dockerfile: '\nFROM --platform=$TARGETPLATFORM scratch\n',
    warnings: [
      'RedundantTargetPlatform 2 Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior',
    ],
  },
  {
    name: 'RedundantTargetPlatform with braces',
    dockerfile: '\nFROM --platform=${TARGETPLATFORM} scratch\n',
    warnings: [
      'RedundantTargetPlatform 2 Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior',
    ],
  },
  {
    name: '$BUILDPLATFORM is not redundant',
    dockerfile: 'FROM --platform=$BUILDPLATFORM scratch\n',
    warnings: [],
  },
  // testSecretsUsedInArgOrEnv
  {
    name: 'SecretsUsedInArgOrEnv',
    dockerfile:
      '\nFROM scratch\nARG SECRET_PASSPHRASE\nENV SUPER_Secret=foo\nENV password=bar secret=baz\nARG super_duper_secret_token=foo auth=bar\nENV apikey=bar sunflower=foo\nENV git_key=\nENV PUBLIC_KEY=\nARG public_token\n',
    warnings: [
      'SecretsUsedInArgOrEnv 3 Do not use ARG or ENV instructions for sensitive data (ARG "SECRET_PASSPHRASE")',
      'SecretsUsedInArgOrEnv 4 Do not use ARG or ENV instructions for sensitive data (ENV "SUPER_Secret")',
      'SecretsUsedInArgOrEnv 5 Do not use ARG or ENV instructions for sensitive data (ENV "password")',
      'SecretsUsedInArgOrEnv 5 Do not use ARG or ENV instructions for sensitive data (ENV "secret")',
      'SecretsUsedInArgOrEnv 6 Do not use ARG or ENV instructions for sensitive data (ARG "auth")',
      'SecretsUsedInArgOrEnv 6 Do not use ARG or ENV instructions for sensitive data (ARG "super_duper_secret_token")',
      'SecretsUsedInArgOrEnv 7 Do not use ARG or ENV instructions for sensitive data (ENV "apikey")',
      'SecretsUsedInArgOrEnv 8 Do not use ARG or ENV instructions for sensitive data (ENV "git_key")',
    ],
  },
  // testInvalidDefaultArgInFrom
  {
    name: 'InvalidDefaultArgInFrom: an empty tag by default',
    dockerfile: '\nARG VERSION\nFROM busybox:$VERSION\n',
    buildArgs: { VERSION: 'latest' },
    warnings: [
      'InvalidDefaultArgInFrom 3 Default value for ARG busybox:$VERSION results in empty or invalid base image name',
    ],
  },
  {
    name: 'InvalidDefaultArgInFrom: an empty image by default',
    dockerfile: '\nARG IMAGE\nFROM $IMAGE\n',
    buildArgs: { IMAGE: 'busybox:latest' },
    warnings: [
      'InvalidDefaultArgInFrom 3 Default value for ARG $IMAGE results in empty or invalid base image name',
    ],
  },
  {
    name: 'InvalidDefaultArgInFrom: a default that leaves a bare colon',
    dockerfile: '\nARG SFX="box:"\nFROM busy${SFX}\n',
    buildArgs: { SFX: 'box:latest' },
    warnings: [
      'InvalidDefaultArgInFrom 3 Default value for ARG busy${SFX} results in empty or invalid base image name',
    ],
  },
  {
    name: 'a valid default',
    dockerfile: '\nARG VERSION="latest"\nFROM busybox:${VERSION}\n',
    buildArgs: { VERSION: 'latest' },
    warnings: [],
  },
  {
    name: 'an empty default suffix',
    dockerfile: '\nARG BUSYBOX_VARIANT=""\nFROM busybox:stable${BUSYBOX_VARIANT}\n',
    buildArgs: { BUSYBOX_VARIANT: '-musl' },
    warnings: [],
  },
  {
    name: 'no default suffix',
    dockerfile: '\n\tARG BUSYBOX_VARIANT\n\tFROM busybox:stable${BUSYBOX_VARIANT}\n\t',
    buildArgs: { BUSYBOX_VARIANT: '-musl' },
    warnings: [],
  },
  // testFromPlatformFlagConstDisallowed
  {
    name: 'FromPlatformFlagConstDisallowed',
    dockerfile: '\nFROM --platform=linux/amd64 scratch\n',
    warnings: [
      'FromPlatformFlagConstDisallowed 2 FROM --platform flag should not use constant value "linux/amd64"',
    ],
  },
  {
    name: 'the architecture in the stage name',
    dockerfile: '\nFROM --platform=linux/amd64 scratch AS my_amd64_stage\n',
    warnings: [],
  },
  {
    name: 'the OS in the stage name',
    dockerfile: '\nFROM --platform=linux/amd64 scratch AS linux\n',
    warnings: [],
  },
  // testCopyIgnoredFiles
  {
    name: 'CopyIgnoredFile is experimental: off by default',
    dockerfile: '\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n',
    dockerignore: ['Dockerfile'],
    warnings: [],
  },
  ...['# check=experimental=CopyIgnoredFile', '# check=skip=all;experimental=CopyIgnoredFile'].map(
    (directive): LintCase => ({
      name: `CopyIgnoredFile with ${directive}`,
      dockerfile: `${directive}\nFROM scratch\nCOPY Dockerfile .\nADD Dockerfile /windy\n`,
      dockerignore: ['Dockerfile'],
      warnings: [
        'CopyIgnoredFile 3 Attempting to Copy file "Dockerfile" that is excluded by .dockerignore',
        'CopyIgnoredFile 4 Attempting to Add file "Dockerfile" that is excluded by .dockerignore',
      ],
    }),
  ),
  {
    name: 'COPY --from is not from the context',
    dockerfile:
      '# check=experimental=CopyIgnoredFile\nFROM scratch AS base\nCOPY Dockerfile /foobar\nADD Dockerfile /windy\n\nFROM base\nCOPY --from=base /foobar /Dockerfile\n',
    dockerignore: ['foobar'],
    warnings: [],
  },
  // testDefinitionDescription
  {
    name: 'InvalidDefinitionDescription: good descriptions',
    dockerfile:
      '# check=experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n\n# base this is the base image\nFROM scratch AS base\n\n# version this is the version number\nARG version=latest\n\n# baz this is the baz\nARG foo=baz bar=qux baz=quux\n#\nARG bit=bat\n\n# comment for something other than ARG or FROM\nCOPY Dockerfile .\n',
    warnings: [],
  },
  {
    name: 'InvalidDefinitionDescription: bad ones',
    dockerfile:
      '# check=experimental=InvalidDefinitionDescription\n# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG version=latest\n# definitely a bad comment\nARG foo=baz bar=qux baz=quux\n',
    warnings: [
      'InvalidDefinitionDescription 3 Comment for ARG should follow the format: `# foo <description>`',
      'InvalidDefinitionDescription 5 Comment for FROM should follow the format: `# base <description>`',
      'InvalidDefinitionDescription 7 Comment for ARG should follow the format: `# version <description>`',
      'InvalidDefinitionDescription 9 Comment for ARG should follow the format: `# <arg_key> <description>`',
    ],
  },
  {
    name: 'InvalidDefinitionDescription is off unless asked for',
    dockerfile: '# definitely a bad comment\nARG version=latest\nFROM scratch\n',
    warnings: [],
  },
  // testAllTargetUnmarshal
  {
    name: 'a build checks the target, --call=check every stage',
    dockerfile: '\nFROM scratch AS first\nCOPY $foo .\n\nFROM scratch AS second\nCOPY $bar .\n',
    warnings: ["UndefinedVar 6 Usage of undefined variable '$bar'"],
    checkWarnings: [
      "UndefinedVar 3 Usage of undefined variable '$foo'",
      "UndefinedVar 6 Usage of undefined variable '$bar'",
    ],
  },
  // Expose rules (frontend/dockerfile/docs/rules/expose-*.md)
  {
    name: 'ExposeProtoCasing',
    dockerfile: 'FROM scratch\nEXPOSE 80/TcP\n',
    warnings: ["ExposeProtoCasing 2 Defined protocol '80/TcP' in EXPOSE instruction should be lowercase"],
  },
  {
    name: 'ExposeInvalidFormat',
    dockerfile: 'FROM scratch\nEXPOSE 127.0.0.1:80:80\nEXPOSE 8080:80 443\n',
    warnings: [
      "ExposeInvalidFormat 2 EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
      "ExposeInvalidFormat 3 EXPOSE instruction should not define an IP address or host-port mapping, found '8080:80'",
    ],
  },
  { name: 'EXPOSE port/proto', dockerfile: 'FROM scratch\nEXPOSE 80/tcp 53/udp 9000-9001\n', warnings: [] },
  // A target: only its stages are dispatched, by a build and by --call=check alike.
  {
    name: '--target: the other stages are not dispatched',
    dockerfile: 'FROM scratch AS a\nCMD x\n\nFROM scratch AS b\nCMD y\n',
    target: 'a',
    warnings: [
      'JSONArgsRecommended 2 JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
    ],
  },
];

function multiple(list: [string, number][]): string[] {
  return list.map(
    ([name, line]) =>
      `MultipleInstructionsDisallowed ${line} Multiple ${name} instructions should not be used in the same stage because only the last one will be used`,
  );
}

function sortExpected(list: string[]): string[] {
  const key = (s: string) => {
    const [, line, ...rest] = s.split(' ');
    return [Number(line), rest.join(' ')] as const;
  };
  return [...list].sort((a, b) => key(a)[0] - key(b)[0] || (key(a)[1] < key(b)[1] ? -1 : 1));
}

describe("BuildKit's check cases", () => {
  for (const c of cases) {
    for (const allStages of [false, true]) {
      // A --target check covers the target's stages only, as BuildKit's lint with a target.
      const mode = allStages ? '--call=check' : 'build';
      test(`${c.name} (${mode})`, async () => {
        const result = await lint(c, allStages && c.target === undefined);
        const expected = allStages ? (c.checkWarnings ?? c.warnings) : c.warnings;
        assert.deepEqual(result.warnings, sortExpected(expected));
        if (c.error === undefined) assert.equal(result.error, undefined);
        else if (typeof c.error === 'string') assert.equal(result.error, c.error);
        else assert.match(result.error ?? '', c.error);
      });
    }
  }
});

test('a real-world style Dockerfile with five violations gets exactly those five, with their lines', async () => {
  const dockerfile = [
    'FROM node:18-alpine as build',
    'WORKDIR app',
    'ENV NODE_ENV production',
    'COPY package.json package-lock.json ./',
    'RUN npm ci',
    'COPY . .',
    'RUN npm run build',
    '',
    'FROM nginx:alpine',
    'MAINTAINER web team <web@example.com>',
    'COPY --from=build /app/dist /usr/share/nginx/html',
    'EXPOSE 80',
    'CMD nginx -g "daemon off;"',
    '',
  ].join('\n');
  const { warnings } = await lint({ name: 'real', dockerfile, warnings: [] }, false);
  assert.deepEqual(warnings, [
    "FromAsCasing 1 'as' and 'FROM' keywords' casing do not match",
    'WorkdirRelativePath 2 Relative workdir "app" can have unexpected results if the base image changes',
    'LegacyKeyValueFormat 3 "ENV key=value" should be used instead of legacy "ENV key value" format',
    'MaintainerDeprecated 10 Maintainer instruction is deprecated in favor of using label',
    'JSONArgsRecommended 13 JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
  ]);
});

test('every rule of the issue, with its description and page, as BuildKit names them', () => {
  const names = Object.keys(checkRules).sort();
  assert.deepEqual(names, [
    'ConsistentInstructionCasing',
    'CopyIgnoredFile',
    'DuplicateStageName',
    'ExposeInvalidFormat',
    'ExposeProtoCasing',
    'FromAsCasing',
    'FromPlatformFlagConstDisallowed',
    'InvalidDefaultArgInFrom',
    'InvalidDefinitionDescription',
    'JSONArgsRecommended',
    'LegacyKeyValueFormat',
    'MaintainerDeprecated',
    'MultipleInstructionsDisallowed',
    'NoEmptyContinuation',
    'RedundantTargetPlatform',
    'ReservedStageName',
    'SecretsUsedInArgOrEnv',
    'StageNameCasing',
    'UndefinedArgInFrom',
    'UndefinedVar',
    'WorkdirRelativePath',
  ]);
  assert.equal(
    checkRules.NoEmptyContinuation.url,
    'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
  );
  assert.equal(checkRules.UndefinedVar.description, 'Variables should be defined before their use');
  assert.equal(checkRules.CopyIgnoredFile.experimental, true);
});

test('warnings are plain data with a file:line:col location and the short form BuildKit prints', async () => {
  const ast = parseDockerfile('FROM scratch\n  MAINTAINER me\n', { file: 'app.Dockerfile' });
  const checks = new Checks(ast, { config: checkConfigFor(undefined, undefined) });
  checks.instructions();
  const [warning] = checks.warnings;
  assert.deepEqual(JSON.parse(JSON.stringify(warning)), {
    rule: 'MaintainerDeprecated',
    description: 'The MAINTAINER instruction is deprecated, use a label instead to define an image author',
    url: 'https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/',
    message: 'Maintainer instruction is deprecated in favor of using label',
    location: { file: 'app.Dockerfile', line: 2, column: 3, endLine: 2 },
  });
  assert.equal(
    formatWarningShort(warning as NonNullable<typeof warning>),
    'MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label (line 2)',
  );
});

describe('check options as BuildKit parses them', () => {
  test('skip, experimental, error; blanks trimmed; all', () => {
    const c = parseCheckOptions(' skip = A , B ; error = True ');
    assert.deepEqual([...c.skip], ['A', 'B']);
    assert.equal(c.error, true);
    assert.equal(parseCheckOptions('skip=all').skipAll, true);
    assert.equal(parseCheckOptions('experimental=all').experimentalAll, true);
    assert.equal(parseCheckOptions('error=0').error, false);
    assert.equal(parseCheckOptions('').error, false);
  });
  test('refusals, with the directive or build arg named', () => {
    assert.throws(() => parseCheckOptions('skip'), { message: 'invalid check option "skip"' });
    assert.throws(() => parseCheckOptions('color=red'), { message: 'invalid check option "color"' });
    assert.throws(() => parseCheckOptions('error=maybe'), {
      message:
        'failed to parse check option "error=maybe": strconv.ParseBool: parsing "maybe": invalid syntax',
    });
    assert.throws(
      () => checkConfigFor('error=yes', undefined),
      (e: Error) => {
        assert.ok(e instanceof CheckOptionError);
        assert.match(e.message, /^failed to parse check options: /);
        return true;
      },
    );
    assert.throws(() => checkConfigFor(undefined, 'nope'), {
      message: 'failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK: invalid check option "nope"',
    });
  });
  test('a fourth part stays in the third (SplitN 3)', () => {
    assert.throws(() => parseCheckOptions('skip=A;error=true;error=false;skip=B'), {
      message:
        'failed to parse check option "error=false;skip=B": strconv.ParseBool: parsing "false;skip=B": invalid syntax',
    });
    assert.deepEqual(
      [...parseCheckOptions('skip=A;error=true;experimental=B;skip=C').experimental],
      ['B;skip=C'],
    );
  });
});
