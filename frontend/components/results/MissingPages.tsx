"use client";

import type { PageRange } from "@/lib/api/types";
import { formatPageRanges } from "@/lib/format";

/** The pages a partial job lacks, and the action that runs their chunks again. */
export function MissingPages({ ranges, busy, onRetry }: { ranges: PageRange[]; busy: boolean; onRetry: () => void }) {
  return (
    <section className="card warning-card stack" aria-labelledby="missing-title">
      <h2 id="missing-title">Some pages are missing</h2>
      <p>
        These pages could not be processed: <span data-testid="missing-pages">{formatPageRanges(ranges)}</span>.
      </p>
      <div className="actions">
        <button type="button" className="primary" onClick={onRetry} disabled={busy} data-testid="retry-failed">
          Retry failed chunks
        </button>
      </div>
    </section>
  );
}
