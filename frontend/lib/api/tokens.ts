/**
 * Where the tokens live (docs/frontend.md, "Tokens"): the access token in memory only, the
 * rotating refresh token in this tab's sessionStorage so that a reload keeps the session.
 * Neither ever goes into a URL, a cookie or localStorage.
 */

const REFRESH_KEY = "folio.refresh";

type Listener = () => void;

/** The session's tokens, with a way to hear when they change. */
export interface TokenStore {
  /** The current access token, or null. */
  access(): string | null;
  /** The current refresh token, or null. */
  refresh(): string | null;
  /** Keep a new pair (after sign-in, sign-up or rotation). */
  set(access: string, refresh: string): void;
  /** Forget both tokens (sign-out, or a refresh that failed). */
  clear(): void;
  /** Call `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void;
}

/** Read the refresh token of this tab, if storage is available. */
function readStored(storage: Storage | undefined): string | null {
  try {
    return storage?.getItem(REFRESH_KEY) ?? null;
  } catch {
    return null;
  }
}

/** Write (or remove, for null) the refresh token of this tab; storage may be disabled. */
function writeStored(storage: Storage | undefined, value: string | null): void {
  try {
    if (value === null) storage?.removeItem(REFRESH_KEY);
    else storage?.setItem(REFRESH_KEY, value);
  } catch {
    // Private mode or storage disabled: the session then lasts until the page is reloaded.
  }
}

/** A token store backed by memory and `storage` (default: this tab's sessionStorage). */
export function createTokenStore(storage?: Storage): TokenStore {
  const store = storage ?? (typeof window === "undefined" ? undefined : window.sessionStorage);
  let accessToken: string | null = null;
  let refreshToken = readStored(store);
  const listeners = new Set<Listener>();
  const notify = () => listeners.forEach((listener) => listener());
  return {
    access: () => accessToken,
    refresh: () => refreshToken,
    set(access, refresh) {
      accessToken = access;
      refreshToken = refresh;
      writeStored(store, refresh);
      notify();
    },
    clear() {
      accessToken = null;
      refreshToken = null;
      writeStored(store, null);
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
