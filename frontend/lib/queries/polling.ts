/**
 * When to poll a watched job again (the `refetchInterval` of `useJob`): a delay that grows the
 * longer the job is watched, and none once it reached a final status or is gone.
 */
import type { ApiError } from "@/lib/api/errors";
import { isFinal } from "@/lib/api/types";

import type { JobSnapshot } from "./fetcher";

/** The delay before the next poll after watching a job for `elapsedMs`: 1 s, growing to 10 s. */
export function pollDelay(elapsedMs: number): number {
  if (elapsedMs < 10_000) return 1_000;
  if (elapsedMs < 30_000) return 2_000;
  if (elapsedMs < 120_000) return 5_000;
  return 10_000;
}

/** Errors after which polling again cannot help (the job is gone, or the session is). */
export function isFatal(error: ApiError | null): boolean {
  return error !== null && (error.status === 401 || error.status === 404);
}

/** What `nextPoll` reads of the job's query. */
interface PolledState {
  data: JobSnapshot | undefined;
  error: ApiError | null;
  status: "pending" | "error" | "success";
}

/** The delay before the next poll of a job watched since `watchingSince`, or false to stop. */
export function nextPoll(state: PolledState, watchingSince: number, now = Date.now()): number | false {
  if (state.status === "error" && isFatal(state.error)) return false;
  if (state.data !== undefined && isFinal(state.data.job.status)) return false;
  return pollDelay(now - watchingSince);
}
