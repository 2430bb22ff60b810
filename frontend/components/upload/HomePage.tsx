"use client";

import Link from "next/link";
import { useState } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { ProgressDialog } from "@/components/jobs/ProgressDialog";

import { UploadPanel } from "./UploadPanel";

/** The upload page; the started job's progress opens over it. */
export function HomePage() {
  const [jobId, setJobId] = useState<string | null>(null);
  return (
    <RequireAuth>
      <UploadPanel onJobStarted={setJobId} />
      <p className="muted">
        Earlier jobs are in your <Link href="/history">history</Link>.
      </p>
      {jobId !== null && <ProgressDialog jobId={jobId} onClose={() => setJobId(null)} />}
    </RequireAuth>
  );
}
