/** The browser's one API client and token store, and who to tell when the session ends. */
import { createApi, type Api } from "./client";
import type { ApiError } from "./errors";
import { createTokenStore } from "./tokens";

type Listener = (error: ApiError) => void;

const listeners = new Set<Listener>();
let api: Api | null = null;

/** The API client of this tab (made on first use). */
export function browserApi(): Api {
  api ??= createApi({
    tokens: createTokenStore(),
    onSessionEnded: (error) => listeners.forEach((listener) => listener(error)),
  });
  return api;
}

/** Call `listener` when the server refuses to refresh the session; returns the unsubscribe. */
export function onSessionEnded(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
