"use client";

import Link from "next/link";
import { useState } from "react";

import { ProgressDialog } from "@/components/jobs/ProgressDialog";

import { UploadPanel } from "./UploadPanel";

/** The upload page; the started job's progress opens over it. */
export function HomePage() {
  const [jobId, setJobId] = useState<string | null>(null);
  return (
    <>
      <UploadPanel onJobStarted={setJobId} />
      <p className="muted">
        Earlier jobs are in your <Link href="/history">history</Link>.
      </p>
      {jobId !== null && <ProgressDialog key={jobId} jobId={jobId} onClose={() => setJobId(null)} />}
    </>
  );
}
