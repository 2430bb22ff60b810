"use client";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { EXPORT_FORMATS, type ExportFormat } from "@/lib/api/client";
import { useDownload } from "@/lib/queries/jobActions";

/** One button per export format; the file is fetched with the token, then saved. */
export function DownloadButtons({ jobId }: { jobId: string }) {
  const download = useDownload(jobId);
  const pending = download.isPending ? download.variables : null;

  const formats = Object.entries(EXPORT_FORMATS) as [ExportFormat, string][];
  return (
    <section className="stack" aria-labelledby="downloads-title">
      <h2 id="downloads-title">Download</h2>
      <div className="actions wrap">
        {formats.map(([format, label]) => (
          <button
            key={format}
            type="button"
            onClick={() => download.mutate(format)}
            disabled={pending !== null}
            aria-busy={pending === format}
            data-testid={`download-${format}`}
          >
            {pending === format ? `Preparing ${label}…` : label}
          </button>
        ))}
      </div>
      {download.error && <ErrorMessage error={download.error} />}
    </section>
  );
}
