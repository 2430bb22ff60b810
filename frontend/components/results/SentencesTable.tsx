"use client";

import { useId, useState } from "react";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import type { Sentence } from "@/lib/api/types";
import { useDebounced } from "@/lib/hooks/useDebounced";
import { SENTENCES_PAGE_SIZE, useSentences } from "@/lib/queries/jobs";
import { groupBySource, type SourceGroup } from "@/lib/sentences";

import { SentenceText } from "./SentenceText";

/**
 * A job's sentences, a page at a time, with a search over their text. The rows a page holds
 * are grouped by the author's sentence they come from: one `<tbody>` per sentence, headed by
 * that sentence when it was cut or rewritten. `limit` is the job's word limit (for the badge of
 * a row left longer than it), null if unknown.
 */
export function SentencesTable({ jobId, limit }: { jobId: string; limit: number | null }) {
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
        <SentenceGroupsTable rows={page?.items ?? []} limit={limit} />
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

/** The table of one page of rows, grouped by source sentence. */
export function SentenceGroupsTable({ rows, limit }: { rows: readonly Sentence[]; limit: number | null }) {
  return (
    <table className="data-table sentences-table" data-testid="results-table">
      <caption className="visually-hidden">
        Sentences and the page each comes from, under the author&apos;s sentence when it was cut or rewritten
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Sentence</th>
          <th scope="col">Page</th>
        </tr>
      </thead>
      {groupBySource(rows).map((group) => (
        <Group key={group.rows[0]?.index ?? group.sourceId} group={group} limit={limit} />
      ))}
    </table>
  );
}

function Group({ group, limit }: { group: SourceGroup; limit: number | null }) {
  return (
    <tbody className={group.showSource ? "source-group" : undefined} data-source-id={group.sourceId}>
      {group.showSource && (
        <tr className="source-row" data-testid="results-source">
          <th scope="rowgroup" colSpan={3}>
            <span className="visually-hidden">The author&apos;s sentence, then its {group.rows.length === 1 ? "row" : "rows"}: </span>
            <span lang="fr">{group.sourceText}</span>
          </th>
        </tr>
      )}
      {group.rows.map((sentence) => (
        <tr
          key={sentence.index}
          data-testid="results-row"
          className={[sentence.heading && "heading-row", group.showSource && "piece-row"].filter(Boolean).join(" ") || undefined}
        >
          <td data-label="#">{sentence.index}</td>
          <td data-label="Sentence">
            <SentenceText sentence={sentence} limit={limit} />
          </td>
          <td data-label="Page">{sentence.page}</td>
        </tr>
      ))}
    </tbody>
  );
}
