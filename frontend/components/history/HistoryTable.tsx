"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { ProgressDialog } from "@/components/jobs/ProgressDialog";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { isFinal, type Job } from "@/lib/api/types";
import { useDeleteJob, useRetryJob } from "@/lib/queries/jobActions";
import { useJobList } from "@/lib/queries/jobs";

import { HistoryRow } from "./HistoryRow";

/** The user's jobs: status, progress, cost and date, with open, retry and delete. */
export function HistoryTable() {
  const router = useRouter();
  const list = useJobList();
  const retryJob = useRetryJob();
  const deleteJob = useDeleteJob();
  const [watching, setWatching] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Job | null>(null);

  const open = (job: Job) => (isFinal(job.status) ? router.push(`/jobs/view?id=${job.id}`) : setWatching(job.id));
  // One action at a time, and only the last one's error is shown.
  const retry = (job: Job) => {
    deleteJob.reset();
    retryJob.mutate(job.id, { onSuccess: () => setWatching(job.id) });
  };
  const remove = (job: Job) => {
    setDeleting(null);
    retryJob.reset();
    deleteJob.mutate(job.id);
  };

  const busy = retryJob.isPending || deleteJob.isPending;
  const error = retryJob.error ?? deleteJob.error ?? list.error;
  return (
    <section className="stack" aria-labelledby="history-title">
      <h1 id="history-title">History</h1>
      {error && <ErrorMessage error={error} />}
      {list.jobs === null && !list.error && <p role="status">Loading…</p>}
      {list.jobs?.length === 0 && (
        <p>
          No job yet. <Link href="/">Upload a PDF</Link> to start one.
        </p>
      )}
      {list.jobs !== null && list.jobs.length > 0 && (
        <div className="table-wrap">
          <table className="data-table" data-testid="history-table">
            <caption className="visually-hidden">Your jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col">Credits</th>
                <th scope="col">Date</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.jobs.map((job) => (
                <HistoryRow key={job.id} job={job} busy={busy} onOpen={open} onRetry={retry} onDelete={setDeleting} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasMore && (
        <div className="actions">
          <button type="button" onClick={list.loadMore}>
            Show older jobs
          </button>
        </div>
      )}
      {watching !== null && (
        <ProgressDialog
          key={watching}
          jobId={watching}
          onClose={() => {
            setWatching(null);
            list.reload();
          }}
        />
      )}
      {deleting !== null && (
        <ConfirmDialog
          title="Delete this job?"
          question={`“${deleting.filename}”, its sentences and its stored PDF are deleted for good. Credits are not refunded.`}
          confirmLabel="Delete"
          cancelLabel="Keep it"
          confirmTestId="delete-confirm"
          onConfirm={() => remove(deleting)}
          onCancel={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
