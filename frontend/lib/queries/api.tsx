"use client";

/** The API client that every query and mutation uses, given by context (tests give their own). */
import { createContext, useContext, type ReactNode } from "react";

import type { Api } from "@/lib/api/client";

const ApiContext = createContext<Api | null>(null);

/** Make `api` the client of every query below. */
export function ApiProvider({ api, children }: { api: Api; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

/** The API client (inside ApiProvider). */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (api === null) throw new Error("useApi must be used inside <ApiProvider>");
  return api;
}
