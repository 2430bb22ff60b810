"use client";

import Link from "next/link";

import { Dialog } from "@/components/ui/Dialog";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError } from "@/lib/api/errors";
import type { Upload } from "@/lib/api/types";
import { formatBytes, formatDuration } from "@/lib/format";
import type { Preferences } from "@/lib/settings";

/** What the preflight shows and what its two buttons do. */
interface PreflightProps {
  upload: Upload;
  preferences: Preferences;
  /** Why the job does not use the saved settings (a processor not set up here), if so. */
  notice?: string | null;
  busy: boolean;
  error: ApiError | null;
  onConfirm: () => void;
  onCancel: () => void;
}

/** The upload's answer before anything is charged: size of the work, cost, warnings. */
export function PreflightDialog({ upload, preferences, notice = null, busy, error, onConfirm, onCancel }: PreflightProps) {
  const short = upload.estimated_credits > upload.balance;
  const warnings = [...upload.warnings];
  const blank = upload.pages_without_text.filter((page) => !upload.pages_scanned.includes(page));
  if (blank.length > 0) {
    warnings.push(`Blank pages (not charged): ${blank.join(", ")}.`);
  }
  return (
    <Dialog title="Ready to process" onClose={onCancel} testId="preflight-dialog">
      <p className="filename">
        {upload.title ? <cite>{upload.title}</cite> : upload.filename}
        {upload.author && <> — {upload.author}</>}
        <span className="muted"> ({formatBytes(upload.size_bytes)})</span>
      </p>
      <dl className="facts">
        <div>
          <dt>Pages</dt>
          <dd data-testid="preflight-pages">{upload.page_count}</dd>
        </div>
        <div>
          <dt>Chunks</dt>
          <dd data-testid="preflight-chunks">{upload.chunk_plan.count}</dd>
        </div>
        {upload.ocr.pages > 0 && (
          <div>
            <dt>Scanned pages (OCR)</dt>
            <dd data-testid="preflight-ocr">
              {upload.ocr.pages}: about {formatDuration(upload.ocr.estimated_seconds * 1000)}, {upload.ocr.credits} credits
            </dd>
          </div>
        )}
        <div>
          <dt>Estimated credits</dt>
          <dd data-testid="preflight-credits">{upload.estimated_credits}</dd>
        </div>
        <div>
          <dt>Your balance</dt>
          <dd className={short ? "negative" : undefined}>{upload.balance}</dd>
        </div>
      </dl>
      <p className="muted">
        Sentences of at most {preferences.limit} words, {preferences.processor} processor (
        <Link href="/settings">change</Link>).
        {preferences.processor !== "local" && " The estimate is for the local processor; a language model is charged on its use."}
      </p>
      {notice && (
        <p className="warning" role="status" data-testid="preflight-processor-notice">
          {notice}
        </p>
      )}
      {upload.ocr.pages > 0 && !upload.ocr.available && (
        <p className="warning" role="alert" data-testid="preflight-no-ocr">
          This server cannot read scanned pages now (Tesseract is not installed): the {upload.ocr.pages} scanned
          pages would give no text. Ask the administrator to install it.
        </p>
      )}
      {short && (
        <p className="warning" role="alert">
          This needs {upload.estimated_credits} credits and your balance is {upload.balance}.
        </p>
      )}
      {warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {warnings.map((warning) => (
            <li key={warning}>{warning}</li>
          ))}
        </ul>
      )}
      {error && <ErrorMessage error={error} />}
      <div className="actions">
        <button type="button" onClick={onCancel} disabled={busy} data-testid="preflight-cancel">
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          onClick={onConfirm}
          disabled={busy || short}
          data-testid="preflight-confirm"
          data-autofocus
        >
          {busy ? "Starting…" : `Process for up to ${upload.estimated_credits} credits`}
        </button>
      </div>
    </Dialog>
  );
}
