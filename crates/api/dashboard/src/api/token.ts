// The API token box's storage: one bearer token in localStorage, shared by every request.

const KEY = "citybrain.token";

/** Minimal storage interface so tests can pass an in-memory map. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function defaultStorage(): TokenStorage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    // Access to localStorage can throw (disabled storage, opaque origins).
    return null;
  }
}

export function loadToken(storage: TokenStorage | null = defaultStorage()): string | null {
  const value = storage?.getItem(KEY)?.trim();
  return value ? value : null;
}

/** Stores a token (trimmed); an empty value clears it. */
export function saveToken(token: string, storage: TokenStorage | null = defaultStorage()): string | null {
  const value = token.trim();
  if (!storage) return value || null;
  if (value) storage.setItem(KEY, value);
  else storage.removeItem(KEY);
  return value || null;
}

/** A short, non-secret label for the stored token: its last four characters. */
export function tokenLabel(token: string | null): string {
  if (!token) return "no token (read-only where the demo allows it)";
  return `token …${token.slice(-4)}`;
}
