"use client";

import Link from "next/link";

import { ProgressBar } from "@/components/jobs/ProgressBar";
import { StatusBadge } from "@/components/jobs/StatusBadge";
import { isFinal, type Job } from "@/lib/api/types";
import { formatDate } from "@/lib/format";

/** What a row's buttons do. */
interface RowActions {
  onOpen: (job: Job) => void;
  onRetry: (job: Job) => void;
  onDelete: (job: Job) => void;
  busy: boolean;
}

/** The cost of a job: what was charged, or what is reserved while it runs. */
function cost(job: Job): string {
  return job.charged_credits != null ? `${job.charged_credits}` : `${job.reserved_credits} reserved`;
}

/** One job of the history, with its actions. */
export function HistoryRow({ job, onOpen, onRetry, onDelete, busy }: { job: Job } & RowActions) {
  const final = isFinal(job.status);
  const retryable = (job.status === "partial" || job.status === "failed") && job.failed_chunks > 0;
  return (
    <tr data-testid="history-row" data-job-id={job.id} data-status={job.status}>
      <td data-label="File">
        {final ? <Link href={`/jobs/view?id=${job.id}`}>{job.filename}</Link> : job.filename}
        <span className="muted"> · {job.page_count} pages</span>
      </td>
      <td data-label="Status">
        <StatusBadge status={job.status} />
        {!final && <ProgressBar percent={job.progress_percent} label={`Progress of ${job.filename}`} />}
      </td>
      <td data-label="Cost">{cost(job)}</td>
      <td data-label="Date">{formatDate(job.created_at)}</td>
      <td data-label="Actions">
        <div className="actions compact">
          <button type="button" onClick={() => onOpen(job)} aria-label={`Open ${job.filename}`}>
            Open
          </button>
          {retryable && (
            <button type="button" onClick={() => onRetry(job)} disabled={busy} aria-label={`Retry ${job.filename}`}>
              Retry
            </button>
          )}
          {final && (
            <button
              type="button"
              className="danger"
              onClick={() => onDelete(job)}
              disabled={busy}
              aria-label={`Delete ${job.filename}`}
            >
              Delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
