"use client";

import { useState } from "react";

import { useAuth } from "@/components/auth/AuthProvider";
import { JobProblem } from "@/components/jobs/JobProblem";
import { ProgressDialog } from "@/components/jobs/ProgressDialog";
import { StatusBadge } from "@/components/jobs/StatusBadge";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError, asApiError } from "@/lib/api/errors";
import { isFinal } from "@/lib/api/types";
import { formatDate } from "@/lib/format";
import { useJobPolling } from "@/lib/hooks/useJobPolling";

import { DownloadButtons } from "./DownloadButtons";
import { MissingPages } from "./MissingPages";
import { SentencesTable } from "./SentencesTable";

/** One job's page: its summary, then its sentences and downloads once it has ended. */
export function ResultsView({ jobId }: { jobId: string }) {
  const { api, refreshBalance } = useAuth();
  const polling = useJobPolling(jobId, api.pollJob);
  const [showProgress, setShowProgress] = useState(false);
  const [retrying, setRetrying] = useState(false);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const job = polling.job;

  async function retry() {
    setRetrying(true);
    setActionError(null);
    try {
      await api.retryJob(jobId);
      refreshBalance();
      polling.restart();
      setShowProgress(true);
    } catch (thrown) {
      setActionError(asApiError(thrown));
    } finally {
      setRetrying(false);
    }
  }

  if (job === null) {
    return polling.error ? <ErrorMessage error={polling.error} /> : <p role="status">Loading…</p>;
  }
  const final = isFinal(job.status);
  const retryable = (job.status === "partial" || job.status === "failed") && job.failed_chunks > 0;
  return (
    <div className="stack">
      <header className="stack">
        <h1>{job.filename}</h1>
        <p>
          <StatusBadge status={job.status} /> · {job.page_count} pages · {job.sentence_count ?? "—"} sentences ·{" "}
          {job.charged_credits ?? job.reserved_credits} credits · {formatDate(job.created_at)}
        </p>
        <JobProblem job={job} />
      </header>
      {actionError && <ErrorMessage error={actionError} />}
      {!final && (
        <div className="card stack">
          <p>This job is still {job.status}; its sentences appear here when it ends.</p>
          <div className="actions">
            <button type="button" className="primary" onClick={() => setShowProgress(true)}>
              Show progress
            </button>
          </div>
        </div>
      )}
      {final && retryable && <MissingPages ranges={job.missing_pages} busy={retrying} onRetry={() => void retry()} />}
      {final && job.status !== "failed" && (
        <>
          <DownloadButtons jobId={jobId} />
          <SentencesTable jobId={jobId} />
        </>
      )}
      {showProgress && (
        <ProgressDialog
          jobId={jobId}
          onClose={() => {
            setShowProgress(false);
            polling.restart();
          }}
        />
      )}
    </div>
  );
}
