// ExposeProtoCasing and ExposeInvalidFormat, for each expanded EXPOSE value before it is parsed.
// BuildKit: dockerfile2llb convert_expose.go parsePort (splitParts, splitProtoPort).
import type { Range } from '../../parser/index.ts';
import type { Linter } from './linter.ts';
import { messages, rules } from './rules.ts';

export function checkExposedPort(raw: string, range: Range, linter: Linter): void {
  const parts = raw.split(':');
  const container = parts[parts.length - 1] as string;
  const hostIp = parts.length >= 3 ? parts.slice(0, -2).join(':') : '';
  const hostPort = parts.length >= 2 ? (parts[parts.length - 2] as string) : '';
  const slash = container.indexOf('/');
  const proto = slash < 0 ? '' : container.slice(slash + 1);
  if (proto !== proto.toLowerCase())
    linter.report(rules.ExposeProtoCasing, messages.ExposeProtoCasing(raw), range);
  if (hostIp !== '' || hostPort !== '')
    linter.report(rules.ExposeInvalidFormat, messages.ExposeInvalidFormat(raw), range);
}
