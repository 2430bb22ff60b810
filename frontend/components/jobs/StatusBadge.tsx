import type { JobStatus } from "@/lib/api/types";

/** A job's status word, coloured by what it means. */
export function StatusBadge({ status, testId }: { status: JobStatus; testId?: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid={testId}>
      {status}
    </span>
  );
}
