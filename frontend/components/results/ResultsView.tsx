"use client";

import { useState } from "react";

import { JobProblem } from "@/components/jobs/JobProblem";
import { ProgressDialog } from "@/components/jobs/ProgressDialog";
import { StatusBadge } from "@/components/jobs/StatusBadge";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { isFinal } from "@/lib/api/types";
import { formatDate } from "@/lib/format";
import { useRetryJob } from "@/lib/queries/jobActions";
import { useJob } from "@/lib/queries/jobs";
import { jobLimit } from "@/lib/sentences";

import { DownloadButtons } from "./DownloadButtons";
import { MissingPages } from "./MissingPages";
import { SentencesTable } from "./SentencesTable";

/** One job's page: its summary, then its sentences and downloads once it has ended. */
export function ResultsView({ jobId }: { jobId: string }) {
  const polling = useJob(jobId);
  const retryJob = useRetryJob();
  const [showProgress, setShowProgress] = useState(false);
  const job = polling.job;

  function retry() {
    retryJob.mutate(jobId, {
      onSuccess: () => {
        polling.restart();
        setShowProgress(true);
      },
    });
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
      {retryJob.error && <ErrorMessage error={retryJob.error} />}
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
      {final && retryable && <MissingPages ranges={job.missing_pages} busy={retryJob.isPending} onRetry={retry} />}
      {final && job.status !== "failed" && (
        <>
          <DownloadButtons jobId={jobId} />
          <SentencesTable jobId={jobId} limit={jobLimit(job)} />
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
