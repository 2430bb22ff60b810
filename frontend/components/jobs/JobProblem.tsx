import { jobProblem } from "@/lib/api/errors";
import type { Job } from "@/lib/api/types";

/** Why a job ended badly, in words, with the server's details beneath. */
export function JobProblem({ job }: { job: Job }) {
  const problem = jobProblem(job);
  if (problem === null) return null;
  return (
    <div className="stack">
      <p className="error">{problem}</p>
      {job.error_message && job.error_message !== problem && <p className="hint">Details: {job.error_message}</p>}
    </div>
  );
}
