// Go's time.ParseDuration, which HEALTHCHECK's --interval/--timeout/--start-period/--start-interval
// use (BuildKit instructions/parse.go parseOptInterval). Hand-written: the Go grammar ("1h30m",
// "1.5s", "300ms", "2us", "0") is small and exact error texts matter.
import { SyntaxFault } from './errors.ts';

const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Parses a Go duration string to nanoseconds. Throws SyntaxFault with Go's error text. */
export function parseDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new SyntaxFault(`time: invalid duration ${quoted}`);
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s) as RegExpExecArray;
    const whole = num[1] as string;
    const frac = num[2];
    if (whole === '' && (frac === undefined || frac === ''))
      throw new SyntaxFault(`time: invalid duration ${quoted}`);
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)?.[0] ?? '';
    if (unit === '') throw new SyntaxFault(`time: missing unit in duration ${quoted}`);
    const scale = unitNs[unit];
    if (scale === undefined)
      throw new SyntaxFault(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    s = s.slice(unit.length);
    total += Number(`${whole === '' ? '0' : whole}.${frac ?? '0'}`) * scale;
    if (total > 2 ** 63 - 1) throw new SyntaxFault(`time: invalid duration ${quoted}`);
  }
  return sign * Math.round(total);
}

/** Go's Duration.String() for the minimum-interval error message ("1ms"). */
export function formatDuration(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  if (ns % 1e3 === 0) return `${ns / 1e3}µs`;
  return `${ns}ns`;
}
