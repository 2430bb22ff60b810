"use client";

import { useEffect, useId, useState } from "react";

import { useAuth } from "@/components/auth/AuthProvider";
import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError, asApiError } from "@/lib/api/errors";
import type { SentencePage } from "@/lib/api/types";
import { useDebounced } from "@/lib/hooks/useDebounced";

const PAGE_SIZE = 50;

/** A job's sentences, a page at a time, with a search over their text. */
export function SentencesTable({ jobId }: { jobId: string }) {
  const { api } = useAuth();
  const id = useId();
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim());
  // The `after` cursor of each page seen so far, to go back; [undefined] is the first page.
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [page, setPage] = useState<SentencePage | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const after = cursors[cursors.length - 1];

  useEffect(() => {
    let current = true;
    api.sentences(jobId, { q: query || undefined, after, limit: PAGE_SIZE }).then(
      (answer) => {
        if (!current) return;
        setPage(answer);
        setError(null);
      },
      (thrown: unknown) => current && setError(asApiError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [api, jobId, query, after]);

  const first = (cursors.length - 1) * PAGE_SIZE + 1;
  const shown = page?.items.length ?? 0;
  return (
    <section className="stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Sentences</h2>
      <div className="field">
        <label htmlFor={`${id}-search`}>Search the sentences</label>
        <input
          id={`${id}-search`}
          type="search"
          maxLength={200}
          value={search}
          data-testid="results-search"
          onChange={(event) => {
            setSearch(event.target.value);
            setCursors([undefined]);
          }}
        />
      </div>
      {error && <ErrorMessage error={error} />}
      <p className="muted" role="status">
        {page === null ? "Loading…" : page.total === 0 ? "No sentence matches." : `${first}–${first + shown - 1} of ${page.total}`}
      </p>
      <div className="table-wrap">
        <table className="data-table" data-testid="results-table">
          <caption className="visually-hidden">Sentences and the page each comes from</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Sentence</th>
              <th scope="col">Page</th>
            </tr>
          </thead>
          <tbody>
            {page?.items.map((sentence) => (
              <tr key={sentence.index} className={sentence.heading ? "heading-row" : undefined}>
                <td data-label="#">{sentence.index}</td>
                <td data-label="Sentence" lang="fr">
                  {sentence.text}
                </td>
                <td data-label="Page">{sentence.page}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="actions">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          disabled={page?.next_after == null}
          data-testid="results-next-page"
          onClick={() => page?.next_after != null && setCursors([...cursors, page.next_after])}
        >
          Next page
        </button>
      </div>
    </section>
  );
}
