"use client";

import { useCallback, useEffect, useState } from "react";

import type { Api } from "@/lib/api/client";
import { ApiError, asApiError } from "@/lib/api/errors";
import { isFinal, type Job, type JobPage } from "@/lib/api/types";

/** How often the list is read again while one of its jobs is active (and the tab visible). */
export const LIST_REFRESH_MS = 5_000;

type Loaded = { jobs: Job[]; nextBefore: string | null };

/** Merge a fresh first page into what is shown: new jobs first, known ones updated in place. */
function mergeFirstPage(shown: Loaded | null, page: JobPage): Loaded {
  if (shown === null) return { jobs: page.items, nextBefore: page.next_before ?? null };
  const fresh = new Map(page.items.map((job) => [job.id, job]));
  const known = new Set(shown.jobs.map((job) => job.id));
  const added = page.items.filter((job) => !known.has(job.id));
  return { ...shown, jobs: [...added, ...shown.jobs.map((job) => fresh.get(job.id) ?? job)] };
}

/** The user's jobs, newest first, a page at a time; active jobs are refreshed as they run. */
export function useJobList(api: Api) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let current = true;
    api.listJobs().then(
      (page) => {
        if (!current) return;
        setLoaded((shown) => mergeFirstPage(shown, page));
        setError(null);
      },
      (thrown: unknown) => current && setError(asApiError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, version]);

  const active = loaded?.jobs.some((job) => !isFinal(job.status)) ?? false;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") setVersion((value) => value + 1);
    }, LIST_REFRESH_MS);
    return () => clearInterval(timer);
  }, [active]);

  const nextBefore = loaded?.nextBefore ?? null;
  const reload = useCallback(() => setVersion((value) => value + 1), []);
  const loadMore = useCallback(async () => {
    if (nextBefore === null) return;
    try {
      const page = await api.listJobs(nextBefore);
      setLoaded((shown) => ({ jobs: [...(shown?.jobs ?? []), ...page.items], nextBefore: page.next_before ?? null }));
    } catch (thrown) {
      setError(asApiError(thrown));
    }
  }, [api, nextBefore]);
  const remove = useCallback(
    (id: string) => setLoaded((shown) => shown && { ...shown, jobs: shown.jobs.filter((job) => job.id !== id) }),
    [],
  );

  return { jobs: loaded?.jobs ?? null, error, hasMore: nextBefore !== null, reload, loadMore, remove };
}
