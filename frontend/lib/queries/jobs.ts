/** Reading jobs: one job watched until it ends, the user's job list, a job's sentences. */
"use client";

import { keepPreviousData, queryOptions, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import type { Api } from "@/lib/api/client";
import type { ApiError } from "@/lib/api/errors";
import { isFinal, type Job, type JobDetail } from "@/lib/api/types";
import { useVisible } from "@/lib/hooks/useVisible";

import { useApi } from "./api";
import { call, fetchJob } from "./fetcher";
import { queryKeys } from "./keys";
import { nextPoll } from "./polling";

/** How often the list is read again while one of its jobs is active (and the tab visible). */
export const LIST_REFRESH_MS = 5_000;
/** Sentences shown a page at a time. */
export const SENTENCES_PAGE_SIZE = 50;

/** The query of one job (ETag-aware); `useJob` adds the polling. */
export function jobQuery(api: Api, jobId: string) {
  return queryOptions({
    queryKey: queryKeys.job(jobId),
    queryFn: ({ client }) => fetchJob(api, client, jobId),
  });
}

/** A watched job: the last state seen, the last error, and a way to poll fast again. */
export interface JobWatch {
  job: JobDetail | null;
  error: ApiError | null;
  /** Start the backoff again from its shortest delay (after a cancel, a retry, a dialog closed). */
  restart: () => void;
}

/**
 * Watch job `jobId` until it ends: polled at once, then after `pollDelay` of the time watched;
 * not at all while the tab is hidden (and at once when it is shown again); never again after a
 * final status or a 401/404. Every component watching one job shares its cache entry.
 * Give the caller a `key` of the job id: the backoff clock belongs to the watch, not the job.
 */
export function useJob(jobId: string): JobWatch {
  const api = useApi();
  const visible = useVisible();
  const [since, setSince] = useState(() => Date.now());
  const query = useQuery({
    ...jobQuery(api, jobId),
    // Disabled while hidden: no interval then, and re-enabling fetches a stale job at once.
    enabled: visible,
    refetchInterval: (current) => nextPoll(current.state, since),
  });
  const restart = useCallback(() => setSince(Date.now()), []);
  return { job: query.data?.job ?? null, error: query.error, restart };
}

/** The user's jobs, newest first, a page at a time; read again while one of them runs. */
export function useJobList() {
  const api = useApi();
  const query = useInfiniteQuery({
    queryKey: queryKeys.jobList,
    queryFn: ({ pageParam }) => call(() => api.listJobs(pageParam)),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.next_before ?? undefined,
    // Not while the tab is hidden: refetchIntervalInBackground stays false.
    refetchInterval: (current) =>
      current.state.data?.pages.some((page) => page.items.some((job: Job) => !isFinal(job.status)))
        ? LIST_REFRESH_MS
        : false,
  });
  const { fetchNextPage, refetch } = query;
  return {
    jobs: query.data?.pages.flatMap((page) => page.items) ?? null,
    error: query.error,
    hasMore: query.hasNextPage,
    loadMore: useCallback(() => void fetchNextPage(), [fetchNextPage]),
    reload: useCallback(() => void refetch(), [refetch]),
  };
}

/** One page of a job's sentences matching `q` (all for ""), from the `after` cursor. */
export function useSentences(jobId: string, q: string, after: number | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: queryKeys.sentences(jobId, q, after),
    queryFn: () => call(() => api.sentences(jobId, { q: q || undefined, after, limit: SENTENCES_PAGE_SIZE })),
    // The page shown stays until the next one is here (no flash of "Loading…" when paging).
    placeholderData: keepPreviousData,
  });
}
