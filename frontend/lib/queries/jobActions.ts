/** What the user does to a job, and which cached data each action makes stale. */
"use client";

import { useMutation, useQueryClient, type InfiniteData } from "@tanstack/react-query";

import type { ExportFormat } from "@/lib/api/client";
import type { JobPage } from "@/lib/api/types";
import { saveBlob } from "@/lib/download";

import { useApi } from "./api";
import { call, type JobSnapshot } from "./fetcher";
import { queryKeys } from "./keys";

/**
 * Cancel job `jobId`. Its answer (`cancelling`) is shown at once when it is newer than the
 * cached poll, then the job is read again; the credits change when it reaches `cancelled`.
 */
export function useCancelJob(jobId: string) {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => call(() => api.cancelJob(jobId)),
    onSuccess: (answer) => {
      client.setQueryData<JobSnapshot>(queryKeys.job(jobId), (cached) =>
        cached && answer.version > cached.job.version ? { ...cached, job: { ...cached.job, ...answer } } : cached,
      );
      // Also drops a poll still in flight from before the cancel, which would show `running`.
      void client.invalidateQueries({ queryKey: queryKeys.job(jobId) });
      void client.invalidateQueries({ queryKey: queryKeys.jobList });
    },
  });
}

/** Run a job's failed chunks again: it reserves credits and runs (and its sentences change). */
export function useRetryJob() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => call(() => api.retryJob(jobId)),
    onSuccess: (_answer, jobId) => {
      void client.invalidateQueries({ queryKey: queryKeys.sentencesOf(jobId) });
      void client.invalidateQueries({ queryKey: queryKeys.jobList });
      void client.invalidateQueries({ queryKey: queryKeys.credits });
      // Awaited, and read even with nobody watching: the progress that opens next must not
      // show the old final status from the cache.
      return client.invalidateQueries({ queryKey: queryKeys.job(jobId), exact: true, refetchType: "all" });
    },
  });
}

type JobList = InfiniteData<JobPage, string | undefined>;

/** Delete a final job: it leaves the list at once, and its cached data is dropped. */
export function useDeleteJob() {
  const api = useApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => call(() => api.deleteJob(jobId)),
    onSuccess: (_answer, jobId) => {
      client.setQueryData<JobList>(queryKeys.jobList, (list) =>
        list && { ...list, pages: list.pages.map((page) => ({ ...page, items: page.items.filter((job) => job.id !== jobId) })) },
      );
      client.removeQueries({ queryKey: queryKeys.job(jobId) });
      void client.invalidateQueries({ queryKey: queryKeys.jobList });
    },
  });
}

/** Download an export of job `jobId` (with the token, never in a URL) and save it. */
export function useDownload(jobId: string) {
  const api = useApi();
  return useMutation({
    mutationFn: (format: ExportFormat) => call(() => api.download(jobId, format)),
    onSuccess: (file) => saveBlob(file.blob, file.filename),
  });
}
