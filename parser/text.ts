// Text helpers that reproduce Go's string semantics where BuildKit's output depends on them:
// unicode.IsSpace, strings.TrimSpace, strconv.Quote, and byte-wise iteration over UTF-8.
//
// Bytes that are not valid UTF-8 are decoded to the lone surrogates U+DC80..U+DCFF (the
// "surrogateescape" trick), so a Dockerfile with stray bytes survives the round trip and
// `quoteGo` can print those bytes as `\xNN` exactly like Go does.

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes Dockerfile bytes; invalid UTF-8 bytes become U+DC80+byte instead of U+FFFD. */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return decodeLossless(bytes, 0, bytes.length);
  }
}

function decodeLossless(b: Uint8Array, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    let need = 0;
    let lo = 0x80;
    let hi = 0xbf;
    let cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    }
    let ok = need > 0 && i + need < end + 1;
    for (let k = 1; ok && k <= need; k++) {
      const cc = b[i + k];
      if (cc === undefined || cc < (k === 1 ? lo : 0x80) || cc > (k === 1 ? hi : 0xbf)) ok = false;
      else cp = (cp << 6) | (cc & 0x3f);
    }
    if (ok) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return out;
}

/**
 * The string seen as Go sees it when it indexes bytes: one char (U+0000..U+00FF) per UTF-8 byte.
 * BuildKit's flag scanner (split_command.go extractBuilderFlags) and HEALTHCHECK splitter work on
 * bytes, so their quirks only reproduce on this view.
 */
export function toByteString(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out += ch;
    else if (cp >= 0xdc80 && cp <= 0xdcff) out += String.fromCharCode(cp - 0xdc00);
    else {
      const bytes = Buffer.from(ch, 'utf8');
      for (const byte of bytes) out += String.fromCharCode(byte);
    }
  }
  return out;
}

/** Inverse of `toByteString`. */
export function fromByteString(s: string): string {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i) & 0xff;
  return decodeBytes(bytes);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the class is "anything outside ASCII"
const nonAscii = /[^\x00-\x7f]/;

/** True when every char is ASCII (then the byte view equals the string). */
export function isAscii(s: string): boolean {
  return !nonAscii.test(s);
}

/** Go's unicode.IsSpace (note: JS `\s` differs: it has U+FEFF and lacks U+0085). */
export const goSpaceClass =
  '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const leadingSpace = new RegExp(`^[${goSpaceClass}]+`);
const trailingSpace = new RegExp(`[${goSpaceClass}]+$`);

function isGoSpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftGo(s: string): string {
  if (s.length === 0 || !isGoSpace(s[0] as string)) return s;
  return s.replace(leadingSpace, '');
}

/** Go's strings.TrimSpace. */
export function trimGo(s: string): string {
  if (s.length === 0) return s;
  const first = isGoSpace(s[0] as string);
  const last = isGoSpace(s[s.length - 1] as string);
  if (!first && !last) return s;
  return s.replace(leadingSpace, '').replace(trailingSpace, '');
}

const plainAscii = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's strconv.Quote, including `\xNN` for bytes that were not valid UTF-8. */
export function quoteGo(s: string): string {
  if (plainAscii.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp === 0x07) out += '\\a';
    else if (cp === 0x08) out += '\\b';
    else if (cp === 0x0c) out += '\\f';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0b) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0xdc80 && cp <= 0xdcff) out += `\\x${hex(cp - 0xdc00, 2)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp >= 0x80 && printable.test(ch)) out += ch;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Replaces lone surrogates (invalid UTF-8 or `\ud800` escapes) by U+FFFD, like Go's JSON decoder. */
export function replaceLoneSurrogates(s: string): string {
  if (!/[\ud800-\udfff]/.test(s)) return s;
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
