/**
 * How the results table reads a page of a job's rows: the rows of one author's sentence
 * together, under that sentence when it was cut or rewritten, and the word limit the job ran
 * with (for a row left longer than it).
 */
import type { Job, Sentence } from "@/lib/api/types";

/** What the grouping reads of a row. */
export type SentenceRow = Pick<Sentence, "index" | "text" | "source_id" | "source_text" | "split">;

/** The rows of one source sentence that a page holds, in reading order. */
export interface SourceGroup<Row extends SentenceRow = Sentence> {
  /** The rows' `source_id`. */
  sourceId: string;
  /** The author's sentence (the row's own text when the API gave none). */
  sourceText: string;
  /**
   * Whether to show the author's sentence above the rows: it was cut (`split`) or a row's
   * text differs from it (rewritten). A sentence kept as is shows once, as its row.
   */
  showSource: boolean;
  rows: Row[];
}

/** Whether a row is its author's sentence as written (rows stored before `source_text` have ""). */
function keptAsIs(row: SentenceRow): boolean {
  return !row.split && (row.source_text === "" || row.source_text.trim() === row.text.trim());
}

/**
 * The rows grouped by source sentence, in the order given: consecutive rows sharing a
 * `source_id` form one group (rows are never moved). A page holds what it holds, so a
 * sentence cut across two pages (or a search matching one piece of it) is a group of the
 * rows present, still shown under the author's sentence.
 */
export function groupBySource<Row extends SentenceRow>(rows: readonly Row[]): SourceGroup<Row>[] {
  const groups: SourceGroup<Row>[] = [];
  for (const row of rows) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.sourceId === row.source_id) {
      last.rows.push(row);
      last.showSource ||= !keptAsIs(row);
    } else {
      groups.push({
        sourceId: row.source_id,
        sourceText: row.source_text || row.text,
        showSource: !keptAsIs(row),
        rows: [row],
      });
    }
  }
  return groups;
}

/** The word limit `job` ran with (its `settings.limit`), or null if it does not say. */
export function jobLimit(job: Pick<Job, "settings"> | null | undefined): number | null {
  const settings: Readonly<Record<string, unknown>> | undefined = job?.settings;
  const limit = settings?.["limit"];
  return typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? limit : null;
}

/** The badge of a row left longer than the limit. */
export function overLimitLabel(limit: number | null): string {
  return limit === null ? "longer than the limit — read in steps" : `longer than ${limit} words — read in steps`;
}
