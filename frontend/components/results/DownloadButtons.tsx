"use client";

import { useState } from "react";

import { useAuth } from "@/components/auth/AuthProvider";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { EXPORT_FORMATS, type ExportFormat } from "@/lib/api/client";
import { ApiError, asApiError } from "@/lib/api/errors";
import { saveBlob } from "@/lib/download";

/** One button per export format; the file is fetched with the token, then saved. */
export function DownloadButtons({ jobId }: { jobId: string }) {
  const { api } = useAuth();
  const [pending, setPending] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function download(format: ExportFormat) {
    setPending(format);
    setError(null);
    try {
      const file = await api.download(jobId, format);
      saveBlob(file.blob, file.filename);
    } catch (thrown) {
      setError(asApiError(thrown));
    } finally {
      setPending(null);
    }
  }

  const formats = Object.entries(EXPORT_FORMATS) as [ExportFormat, string][];
  return (
    <section className="stack" aria-labelledby="downloads-title">
      <h2 id="downloads-title">Download</h2>
      <div className="actions wrap">
        {formats.map(([format, label]) => (
          <button
            key={format}
            type="button"
            onClick={() => void download(format)}
            disabled={pending !== null}
            aria-busy={pending === format}
            data-testid={`download-${format}`}
          >
            {pending === format ? `Preparing ${label}…` : label}
          </button>
        ))}
      </div>
      {error && <ErrorMessage error={error} />}
    </section>
  );
}
