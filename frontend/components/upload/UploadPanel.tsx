"use client";

import { useState } from "react";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError, asApiError } from "@/lib/api/errors";
import type { Upload } from "@/lib/api/types";
import { checkPdf } from "@/lib/pdf";
import { useDiscardUpload, useStartJob, useUpload } from "@/lib/queries/uploads";
import { applyProcessors, loadPreferences, toJobSettings, type Preferences } from "@/lib/settings";

import { Dropzone } from "./Dropzone";
import { PasswordPrompt } from "./PasswordPrompt";
import { PreflightDialog } from "./PreflightDialog";

const NEEDS_PASSWORD = new Set(["password_required", "wrong_password"]);

/** Upload a PDF, show its preflight, and start the job when the user confirms. */
export function UploadPanel({ onJobStarted }: { onJobStarted: (jobId: string) => void }) {
  const uploadPdf = useUpload();
  const startJob = useStartJob();
  const discardUpload = useDiscardUpload();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [locked, setLocked] = useState<File | null>(null);
  const [upload, setUpload] = useState<Upload | null>(null);
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [jobError, setJobError] = useState<ApiError | null>(null);

  async function send(file: File, password?: string) {
    setProblem(null);
    setError(null);
    setBusy(true);
    try {
      const checked = await checkPdf(file);
      if (checked !== null) {
        setProblem(checked);
        return;
      }
      const { upload: answer, processors } = await uploadPdf.mutateAsync({ file, password });
      const saved = loadPreferences();
      const applied = processors === null ? { preferences: saved, notice: null } : applyProcessors(saved, processors);
      setLocked(null);
      setPreferences(applied.preferences);
      setNotice(applied.notice);
      setJobError(null);
      setUpload(answer);
    } catch (thrown) {
      const failure = asApiError(thrown);
      setError(failure);
      setLocked(NEEDS_PASSWORD.has(failure.code) ? file : null);
    } finally {
      setBusy(false);
    }
  }

  async function confirm() {
    if (upload === null || preferences === null) return;
    setBusy(true);
    setJobError(null);
    try {
      const job = await startJob.mutateAsync({ uploadId: upload.id, settings: toJobSettings(preferences) });
      setUpload(null);
      onJobStarted(job.id);
    } catch (thrown) {
      setJobError(asApiError(thrown));
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    if (upload !== null) {
      // Nothing was charged; the upload would expire anyway, but there is no reason to keep it.
      discardUpload.mutate(upload.id);
    }
    setUpload(null);
  }

  return (
    <section className="card stack" aria-labelledby="upload-title">
      <h1 id="upload-title">Turn a novel into short sentences</h1>
      <Dropzone onFile={(file) => void send(file)} disabled={busy} />
      {busy && upload === null && (
        <p role="status" className="muted">
          Uploading and checking the PDF…
        </p>
      )}
      {(problem !== null || error !== null) && (
        <div data-testid="upload-error">
          {problem !== null && (
            <p className="error" role="alert">
              {problem}
            </p>
          )}
          {error !== null && <ErrorMessage error={error} />}
        </div>
      )}
      {locked !== null && <PasswordPrompt filename={locked.name} onSubmit={(password) => void send(locked, password)} />}
      {upload !== null && preferences !== null && (
        <PreflightDialog
          upload={upload}
          preferences={preferences}
          notice={notice}
          busy={busy}
          error={jobError}
          onConfirm={() => void confirm()}
          onCancel={cancel}
        />
      )}
    </section>
  );
}
