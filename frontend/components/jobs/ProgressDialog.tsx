"use client";

import Link from "next/link";
import { useEffect, useState } from "react";

import { useAuth } from "@/components/auth/AuthProvider";
import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError, asApiError } from "@/lib/api/errors";
import { isFinal, type Job } from "@/lib/api/types";
import { useJobPolling } from "@/lib/hooks/useJobPolling";

import { JobProblem } from "./JobProblem";
import { JobProgress } from "./JobProgress";

/** The newer of two views of one job (the poll's, or the answer to an action). */
function newest(polled: Job | null, acted: Job | null): Job | null {
  if (polled === null || acted === null) return polled ?? acted;
  return acted.version > polled.version ? acted : polled;
}

/** Live progress of a job; closing it leaves the job running (reopen it from the history). */
export function ProgressDialog({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const { api, refreshBalance } = useAuth();
  const polling = useJobPolling(jobId, api.pollJob);
  const [acted, setActed] = useState<Job | null>(null);
  const [asking, setAsking] = useState(false);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const job = newest(polling.job, acted);
  const final = job !== null && isFinal(job.status);

  // The settlement gives back what a job did not use: show the new balance once it ends.
  useEffect(() => {
    if (final) refreshBalance();
  }, [final, refreshBalance]);

  async function cancel() {
    setAsking(false);
    setActionError(null);
    try {
      setActed(await api.cancelJob(jobId));
      polling.restart();
    } catch (thrown) {
      setActionError(asApiError(thrown));
    }
  }

  const error = actionError ?? polling.error;
  const cancellable = job !== null && (job.status === "queued" || job.status === "running");
  return (
    <Dialog title={job ? `Processing ${job.filename}` : "Processing"} onClose={onClose} testId="progress-dialog">
      {job === null && !error && <p role="status">Loading…</p>}
      {job !== null && <JobProgress job={job} />}
      {error && <ErrorMessage error={error} />}
      {job !== null && final && <JobProblem job={job} />}
      <div className="actions">
        {cancellable && (
          <button type="button" className="danger" onClick={() => setAsking(true)} data-testid="progress-cancel">
            Cancel job
          </button>
        )}
        <button type="button" onClick={onClose} data-testid="progress-close" data-autofocus>
          {final ? "Close" : "Close (keeps running)"}
        </button>
        {final && (
          <Link href={`/jobs/view?id=${jobId}`} className="button primary" data-testid="progress-view-results">
            View results
          </Link>
        )}
      </div>
      {asking && (
        <ConfirmDialog
          title="Cancel this job?"
          question="The pages processed so far are kept and charged; the rest is not."
          confirmLabel="Cancel the job"
          cancelLabel="Keep running"
          confirmTestId="cancel-confirm"
          onConfirm={() => void cancel()}
          onCancel={() => setAsking(false)}
        />
      )}
    </Dialog>
  );
}
