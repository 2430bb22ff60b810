/**
 * The two fetchers under the cache: `call`, through which every query and mutation function
 * reaches the API (so the cache only ever holds ApiErrors, `client.ts`), and `fetchJob`, the
 * conditional GET of a watched job.
 */
import type { QueryClient } from "@tanstack/react-query";

import type { Api } from "@/lib/api/client";
import { ApiError, asApiError } from "@/lib/api/errors";
import { isFinal, type JobDetail } from "@/lib/api/types";

import { queryKeys } from "./keys";

/** Run an API call; whatever it throws (a network TypeError included) becomes an ApiError. */
export async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (thrown) {
    throw asApiError(thrown);
  }
}

/** A job as cached: the detail and the ETag it came with (for the next If-None-Match). */
export interface JobSnapshot {
  job: JobDetail;
  etag: string | null;
}

/**
 * Read job `jobId` again, sending the cached ETag: on 304 the cached snapshot is returned as
 * is (the same object, so nothing re-renders). When the job has just reached a final status,
 * the credits (its settlement gave back what it did not use) and the job list are invalidated.
 */
export async function fetchJob(api: Api, client: QueryClient, jobId: string): Promise<JobSnapshot> {
  const previous = client.getQueryData<JobSnapshot>(queryKeys.job(jobId));
  const answer = await call(() => api.pollJob(jobId, previous?.etag ?? null));
  if (answer === null) {
    // The ETag came from `previous`, so a 304 without it cannot happen unless the server errs.
    if (previous === undefined) throw new ApiError("unexpected_response", "HTTP 304 for a job never read", 304);
    return previous;
  }
  if (isFinal(answer.job.status) && (previous === undefined || !isFinal(previous.job.status))) {
    void client.invalidateQueries({ queryKey: queryKeys.credits });
    void client.invalidateQueries({ queryKey: queryKeys.jobList });
  }
  return answer;
}
