"use client";

import Link from "next/link";
import { useState } from "react";

import { ConfirmDialog } from "@/components/ui/ConfirmDialog";
import { Dialog } from "@/components/ui/Dialog";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { isFinal } from "@/lib/api/types";
import { useCancelJob } from "@/lib/queries/jobActions";
import { useJob } from "@/lib/queries/jobs";

import { JobProblem } from "./JobProblem";
import { JobProgress } from "./JobProgress";

/**
 * Live progress of a job; closing it leaves the job running (reopen it from the history).
 * The new balance shows once the job ends: the job query refreshes the credits then.
 */
export function ProgressDialog({ jobId, onClose }: { jobId: string; onClose: () => void }) {
  const polling = useJob(jobId);
  const cancelJob = useCancelJob(jobId);
  const [asking, setAsking] = useState(false);
  const job = polling.job;
  const final = job !== null && isFinal(job.status);

  function cancel() {
    setAsking(false);
    cancelJob.mutate(undefined, { onSuccess: polling.restart });
  }

  const error = cancelJob.error ?? polling.error;
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
          onConfirm={cancel}
          onCancel={() => setAsking(false)}
        />
      )}
    </Dialog>
  );
}
