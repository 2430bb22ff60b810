/** The processors (and their models) a job may ask for on this server. */
"use client";

import { queryOptions, useQuery } from "@tanstack/react-query";

import type { Api } from "@/lib/api/client";

import { useApi } from "./api";
import { call } from "./fetcher";
import { queryKeys } from "./keys";

/** The processors query, shared by the settings page and the upload's preflight. */
export function processorsQuery(api: Api) {
  return queryOptions({ queryKey: queryKeys.processors, queryFn: () => call(() => api.listProcessors()) });
}

/** The server's processors (`local` first). */
export function useProcessors() {
  return useQuery(processorsQuery(useApi()));
}
