/**
 * Watch a job until it ends: conditional GETs with the last ETag (304 while nothing moved),
 * a delay that grows the longer the job runs, no polling while the tab is hidden, and none
 * at all once the job reaches a final status.
 */
"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import type { JobPoll } from "@/lib/api/client";
import { ApiError, asApiError } from "@/lib/api/errors";
import { isFinal, type JobDetail } from "@/lib/api/types";

/** The delay before the next poll after watching a job for `elapsedMs`: 1 s, growing to 10 s. */
export function pollDelay(elapsedMs: number): number {
  if (elapsedMs < 10_000) return 1_000;
  if (elapsedMs < 30_000) return 2_000;
  if (elapsedMs < 120_000) return 5_000;
  return 10_000;
}

/** Errors after which polling again cannot help (the job is gone, or the session is). */
function isFatal(error: ApiError): boolean {
  return error.status === 401 || error.status === 404;
}

/** What the hook gives: the last job seen, the last error, and a way to poll again now. */
export interface JobPolling {
  job: JobDetail | null;
  error: ApiError | null;
  /** Start polling again at once (after a cancel or a retry), from the shortest delay. */
  restart: () => void;
}

type Poll = (jobId: string, etag: string | null) => Promise<JobPoll>;

/** Poll job `jobId` (nothing when null) with `poll`, until it reaches a final status. */
export function useJobPolling(jobId: string | null, poll: Poll): JobPolling {
  // Kept with the id they belong to, so that another job never shows the previous one's state.
  const [seen, setSeen] = useState<{ jobId: string; job: JobDetail | null; error: ApiError | null }>();
  const [generation, setGeneration] = useState(0);
  const pollRef = useRef(poll);
  useEffect(() => {
    pollRef.current = poll;
  }, [poll]);

  useEffect(() => {
    if (jobId === null) return;
    const id = jobId;
    const started = Date.now();
    let etag: string | null = null;
    let stopped = false;
    let inFlight = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hidden = () => document.visibilityState === "hidden";

    const schedule = () => {
      clearTimeout(timer);
      if (!stopped && !hidden()) timer = setTimeout(() => void tick(), pollDelay(Date.now() - started));
    };

    async function tick(): Promise<void> {
      if (stopped || inFlight) return;
      inFlight = true;
      try {
        const answer = await pollRef.current(id, etag);
        if (stopped) return;
        if (answer !== null) {
          etag = answer.etag;
          if (isFinal(answer.job.status)) stopped = true;
        }
        setSeen((last) => ({ jobId: id, job: answer?.job ?? (last?.jobId === id ? last.job : null), error: null }));
      } catch (thrown) {
        if (stopped) return;
        const failure = asApiError(thrown);
        setSeen((last) => ({ jobId: id, job: last?.jobId === id ? last.job : null, error: failure }));
        if (isFatal(failure)) stopped = true;
      } finally {
        inFlight = false;
      }
      schedule();
    }

    const onVisibilityChange = () => {
      clearTimeout(timer);
      if (!hidden()) void tick();
    };
    document.addEventListener("visibilitychange", onVisibilityChange);
    if (!hidden()) void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibilityChange);
    };
  }, [jobId, generation]);

  const restart = useCallback(() => setGeneration((value) => value + 1), []);
  const current = seen !== undefined && seen.jobId === jobId ? seen : undefined;
  return { job: current?.job ?? null, error: current?.error ?? null, restart };
}
