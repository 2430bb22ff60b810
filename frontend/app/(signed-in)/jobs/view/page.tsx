import type { Metadata } from "next";
import { Suspense } from "react";

import { JobPage } from "@/components/results/JobPage";

export const metadata: Metadata = { title: "Results" };

/** `/jobs/view?id=…`: one job's results (the id is a query parameter: a static export). */
export default function Page() {
  return (
    <Suspense fallback={<p role="status">Loading…</p>}>
      <JobPage />
    </Suspense>
  );
}
