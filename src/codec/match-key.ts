/**
 * Matches a map key, given as `len` bytes of `buf` at `start`, against known keys without
 * building a string. `hint` (the key's position in the map) is tried first, since encoders
 * write keys in schema order. Returns the key's index, or -1 for an unknown key.
 */
export function matchKey(
  buf: Uint8Array,
  start: number,
  len: number,
  keys: readonly Uint8Array[],
  hint: number,
): number {
  const n = keys.length;
  for (let k = 0, i = hint < n ? hint : 0; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
    const key = keys[i];
    if (key.length !== len) continue;
    let j = 0;
    while (j < len && buf[start + j] === key[j]) j++;
    if (j === len) return i;
  }
  return -1;
}
