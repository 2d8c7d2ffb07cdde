// SecretsUsedInArgOrEnv: an ARG or ENV name that reads like a credential. BuildKit:
// dockerfile2llb getSecretsRegex/validateNoSecretKey: a denied word as the whole name or as its
// first or last `_`-separated part, unless an allowed word is too.
import type { Range } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

const denied = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const allowed = /(?:_|^)(?:public)(?:_|$)/i;

export function checkSecretName(instruction: 'ARG' | 'ENV', key: string, range: Range, linter: Linter): void {
  if (denied.test(key) && !allowed.test(key)) {
    linter.report(rules.SecretsUsedInArgOrEnv, messages.SecretsUsedInArgOrEnv(instruction, key), range);
  }
}
