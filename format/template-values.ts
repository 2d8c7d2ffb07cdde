/**
 * Go's view of plain JS values, shared by the executor and the functions: the "no value" of a
 * missing key, what is an object (a struct or a map), truth, and fmt's %v printing.
 */

/** What a missing map key yields: printed `<no value>`, and false. */
export const noValue = Symbol('no value');

/** A struct or a map: any object but an array. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's truth: false, 0, "", nil and empty collections are false. */
export function truthy(v: unknown): boolean {
  if (v === noValue || v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v of a value. */
export function printValue(v: unknown): string {
  if (v === noValue || v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${printValue(v[k])}`).join(' ')}]`;
  }
  return String(v);
}
