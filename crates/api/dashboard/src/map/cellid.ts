// Cell id syntax, without h3-js (the stream worker imports this and must stay small).

/**
 * Normalises a cell id to h3-js's form (lowercase hex without a `0x` prefix). Returns null if the
 * value is not a string of 15 or 16 hex digits.
 */
export function normaliseCellId(v: unknown): string | null {
  if (typeof v !== "string") return null;
  let s = v.trim().toLowerCase();
  if (s.startsWith("0x")) s = s.slice(2);
  return /^[0-9a-f]{15,16}$/.test(s) ? s : null;
}
