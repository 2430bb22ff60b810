/** The app's QueryClient: defaults chosen to behave as the pages did before the cache. */
import { QueryClient } from "@tanstack/react-query";

import type { ApiError } from "@/lib/api/errors";

declare module "@tanstack/react-query" {
  // Every query and mutation function goes through `call` (fetcher.ts), so errors are ApiErrors.
  interface Register {
    defaultError: ApiError;
  }
}

/** A QueryClient for one browser tab (or one test). */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // An error is shown at once with its message (and a way to try again), as before.
        retry: false,
        // Pages read their data when they open; job polling has its own visibility rule.
        refetchOnWindowFocus: false,
        // Offline, the request still runs and fails as `network_error`, which the user reads;
        // the default ("online") would pause it silently on "Loading…".
        networkMode: "always",
      },
      mutations: { retry: false, networkMode: "always" },
    },
  });
}
