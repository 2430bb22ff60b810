"use client";

import { useId, useState } from "react";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { useDebounced } from "@/lib/hooks/useDebounced";
import { SENTENCES_PAGE_SIZE, useSentences } from "@/lib/queries/jobs";

/** A job's sentences, a page at a time, with a search over their text. */
export function SentencesTable({ jobId }: { jobId: string }) {
  const id = useId();
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim());
  // The `after` cursor of each page seen so far, to go back; [undefined] is the first page.
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const after = cursors[cursors.length - 1];
  const { data, error } = useSentences(jobId, query, after);
  const page = data ?? null;

  const first = (cursors.length - 1) * SENTENCES_PAGE_SIZE + 1;
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
