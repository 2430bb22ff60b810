/** A query cache and a fake API for the data layer's tests. */
import type { QueryClient } from "@tanstack/react-query";
import { QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { createApi, type Api } from "@/lib/api/client";
import { createTokenStore } from "@/lib/api/tokens";
import { ApiProvider } from "@/lib/queries/api";
import { createQueryClient } from "@/lib/queries/client";

import { MemoryStorage } from "./fixtures";

/**
 * The real client with `overrides`: any call a test did not replace fails as the network
 * would, so nothing is fetched by surprise.
 */
export function testApi(overrides: Partial<Api> = {}): Api {
  const offline = () => Promise.reject(new TypeError("no server in this test"));
  const api = createApi({ tokens: createTokenStore(new MemoryStorage()), baseUrl: "http://folio.test", fetch: offline });
  return { ...api, ...overrides };
}

/** The providers of the app (a fresh cache with the app's defaults, and `api`). */
export function dataWrapper(api: Api, client: QueryClient = createQueryClient()) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return (
      <QueryClientProvider client={client}>
        <ApiProvider api={api}>{children}</ApiProvider>
      </QueryClientProvider>
    );
  };
}
