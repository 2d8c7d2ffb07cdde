/**
 * `--chmod` values: octal (`755`, `0644`, at most 07777) or symbolic (`u+x`, `go-w`,
 * `u=rw,g=r,o=r`, `a+X`), as BuildKit accepts them. Returns a function from the entry's current
 * mode (permission bits and type) to its new permission bits.
 */
export function parseChmod(value: string): (mode: number, isDir: boolean) => number {
  if (/^[0-7]+$/.test(value)) {
    const octal = Number.parseInt(value, 8);
    if (octal > 0o7777) throw invalidChmod(value);
    return () => octal;
  }
  const clauses = value.split(',').map((clause) => {
    const match = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!match) throw invalidChmod(value);
    return { who: match[1] || 'a', op: match[2] as '+' | '-' | '=', perms: match[3] as string };
  });
  return (mode, isDir) => {
    let result = mode & 0o7777;
    for (const { who, op, perms } of clauses) {
      let bits = 0;
      const anyExec = isDir || (result & 0o111) !== 0;
      for (const perm of perms) {
        for (const w of who === 'a' ? 'ugo' : who) {
          const shift = w === 'u' ? 6 : w === 'g' ? 3 : 0;
          if (perm === 'r') bits |= 4 << shift;
          if (perm === 'w') bits |= 2 << shift;
          if (perm === 'x' || (perm === 'X' && anyExec)) bits |= 1 << shift;
          if (perm === 's' && w === 'u') bits |= 0o4000;
          if (perm === 's' && w === 'g') bits |= 0o2000;
          if (perm === 't') bits |= 0o1000;
        }
      }
      if (op === '+') result |= bits;
      else if (op === '-') result &= ~bits;
      else {
        let mask = 0;
        for (const w of who === 'a' ? 'ugo' : who) mask |= w === 'u' ? 0o4700 : w === 'g' ? 0o2070 : 0o1007;
        result = (result & ~mask) | bits;
      }
    }
    return result;
  };
}

function invalidChmod(value: string): Error {
  return new Error(`invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`);
}
