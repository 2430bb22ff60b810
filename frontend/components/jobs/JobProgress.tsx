"use client";

import { isFinal, type Job } from "@/lib/api/types";
import { formatDuration } from "@/lib/format";
import { useNow } from "@/lib/hooks/useNow";

import { ProgressBar } from "./ProgressBar";
import { StatusBadge } from "./StatusBadge";

/** A job's progress: status, bar, step, chunks, pages and elapsed time. */
export function JobProgress({ job }: { job: Job }) {
  const final = isFinal(job.status);
  const now = useNow(!final);
  const start = Date.parse(job.started_at ?? job.created_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return (
    <div className="stack">
      <p>
        Status: <StatusBadge status={job.status} testId="progress-status" />
      </p>
      <ProgressBar percent={job.progress_percent} label={`Progress of ${job.filename}`} testId="progress-percent" />
      <dl className="facts">
        <div>
          <dt>Step</dt>
          <dd data-testid="progress-step">{job.current_step ?? "—"}</dd>
        </div>
        <div>
          <dt>Chunks done</dt>
          <dd data-testid="progress-chunks">
            {job.processed_chunks} / {job.total_chunks}
          </dd>
        </div>
        <div>
          <dt>Page</dt>
          <dd data-testid="progress-pages">
            {job.current_page ?? 0} / {job.total_pages ?? job.page_count}
          </dd>
        </div>
        {job.ocr_pages > 0 && (
          <div>
            <dt>Scanned pages</dt>
            <dd data-testid="progress-ocr">
              {job.ocr_pages} read by OCR{job.ocr_seconds > 0 && ` (${formatDuration(job.ocr_seconds * 1000)} of OCR so far)`}
            </dd>
          </div>
        )}
        <div>
          <dt>Elapsed</dt>
          <dd data-testid="progress-elapsed">{formatDuration(end - start)}</dd>
        </div>
      </dl>
      {job.failed_chunks > 0 && (
        <p className="warning">
          {job.failed_chunks} chunk{job.failed_chunks === 1 ? "" : "s"} failed.
        </p>
      )}
    </div>
  );
}
