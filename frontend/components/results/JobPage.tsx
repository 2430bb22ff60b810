"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";

import { ResultsView } from "./ResultsView";

/** Reads the job id from the query string and shows that job. */
export function JobPage() {
  const id = useSearchParams().get("id");
  if (!id) {
    return (
      <p>
        No job chosen. Open one from your <Link href="/history">history</Link>.
      </p>
    );
  }
  // Keyed by id: another job starts from a clean state.
  return <ResultsView key={id} jobId={id} />;
}
