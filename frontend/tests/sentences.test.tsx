import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { SentenceGroupsTable } from "@/components/results/SentencesTable";
import type { Sentence } from "@/lib/api/types";
import { groupBySource, jobLimit, overLimitLabel } from "@/lib/sentences";

afterEach(cleanup);

let next = 1;
/** A row as the API gives it: a sentence kept as is unless told otherwise. */
function row(text: string, overrides: Partial<Sentence> = {}): Sentence {
  const index = next++;
  return {
    index,
    text,
    page: 3,
    source_id: `00003:${String(index).padStart(6, "0")}`,
    part: 0,
    words: text.split(" ").length,
    heading: false,
    split: false,
    cut: "",
    source_text: text,
    over_limit: false,
    units: [],
    ...overrides,
  };
}

const SOURCE = "Il entra dans la chambre, et la porte se referma derrière lui sans bruit.";
/** The two rows of SOURCE, cut at its clause. */
function cutRows(): Sentence[] {
  const shared = { source_id: "00003:000100", source_text: SOURCE, split: true };
  return [
    row("Il entra dans la chambre.", { ...shared, part: 0 }),
    row("Et la porte se referma derrière lui sans bruit.", { ...shared, part: 1, cut: "clause" }),
  ];
}

const LONG = "Le vieillard, que nul n'avait vu depuis l'hiver où la rivière gela jusqu'au fond, descendait lentement la rue.";
const UNITS = ["Le vieillard,", "que nul n'avait vu depuis l'hiver", "où la rivière gela jusqu'au fond,", "descendait lentement la rue."];

describe("groupBySource", () => {
  it("keeps a sentence kept as is as a group of its own, without its source shown", () => {
    const kept = row("Elle sourit.");
    expect(groupBySource([kept])).toEqual([
      { sourceId: kept.source_id, sourceText: "Elle sourit.", showSource: false, rows: [kept] },
    ]);
  });

  it("puts the pieces of a cut sentence under the author's sentence, in order", () => {
    const before = row("Elle sourit.");
    const pieces = cutRows();
    const after = row("Il ne dit rien.");
    const groups = groupBySource([before, ...pieces, after]);
    expect(groups.map((group) => [group.showSource, group.rows.map((r) => r.index)])).toEqual([
      [false, [before.index]],
      [true, pieces.map((r) => r.index)],
      [false, [after.index]],
    ]);
    expect(groups[1]!.sourceText).toBe(SOURCE);
  });

  it("shows the source of a sentence rewritten into one row (text differs from source_text)", () => {
    const rewritten = row("Il entra sans bruit.", { source_text: SOURCE, cut: "llm" });
    expect(groupBySource([rewritten])[0]!.showSource).toBe(true);
  });

  it("does not show the source of a row whose text differs only by surrounding space, or has none", () => {
    expect(groupBySource([row("Elle sourit.", { source_text: " Elle sourit. " })])[0]!.showSource).toBe(false);
    const old = row("Elle sourit.", { source_text: "" });
    expect(groupBySource([old])[0]).toMatchObject({ showSource: false, sourceText: "Elle sourit." });
  });

  it("groups what a page holds: one piece of a cut sentence still shows under its source", () => {
    const [, second] = cutRows();
    const groups = groupBySource([second!]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ showSource: true, sourceText: SOURCE });
  });

  it("never reorders: rows of one source apart in the input stay apart", () => {
    const [a, b] = cutRows();
    const between = row("Elle sourit.");
    expect(groupBySource([a!, between, b!]).map((group) => group.rows.length)).toEqual([1, 1, 1]);
  });

  it("keeps an over-limit sentence left whole as one row, its source not repeated", () => {
    const long = row(LONG, { over_limit: true, units: UNITS });
    expect(groupBySource([long])).toEqual([{ sourceId: long.source_id, sourceText: LONG, showSource: false, rows: [long] }]);
  });

  it("gives nothing for no rows", () => {
    expect(groupBySource([])).toEqual([]);
  });
});

describe("the job's limit", () => {
  it("reads settings.limit, or null", () => {
    expect(jobLimit({ settings: { limit: 8 } as never })).toBe(8);
    expect(jobLimit({ settings: {} as never })).toBeNull();
    expect(jobLimit({ settings: { limit: "8" } as never })).toBeNull();
    expect(jobLimit({})).toBeNull();
    expect(jobLimit(null)).toBeNull();
  });

  it("words the badge with the limit when known", () => {
    expect(overLimitLabel(12)).toBe("longer than 12 words — read in steps");
    expect(overLimitLabel(null)).toBe("longer than the limit — read in steps");
  });
});

describe("the results table", () => {
  it("shows a cut sentence's source once, muted, above its rows", () => {
    const kept = row("Elle sourit.");
    const pieces = cutRows();
    render(<SentenceGroupsTable rows={[kept, ...pieces]} limit={8} />);
    const table = screen.getByTestId("results-table");
    const groups = within(table).getAllByRole("rowgroup").slice(1); // the first is <thead>
    expect(groups).toHaveLength(2);
    // The sentence kept as is: one row, no source row.
    expect(within(groups[0]!).getAllByRole("row")).toHaveLength(1);
    expect(within(groups[0]!).queryByTestId("results-source")).toBeNull();
    // The cut sentence: its source as the group's header, then its two rows.
    const source = within(groups[1]!).getByRole("rowheader");
    expect(source).toHaveProperty("scope", "rowgroup");
    expect(source.textContent).toContain(SOURCE);
    expect(within(groups[1]!).getAllByTestId("results-row").map((tr) => tr.querySelector("td + td")!.textContent)).toEqual(
      pieces.map((piece) => piece.text),
    );
    expect(screen.getAllByText(SOURCE)).toHaveLength(1);
    expect(screen.getAllByText("Elle sourit.")).toHaveLength(1);
  });

  it("shows an over-limit row's badge and its units as steps of one row, not as rows", () => {
    const long = row(LONG, { over_limit: true, units: UNITS });
    render(<SentenceGroupsTable rows={[row("Elle sourit."), long]} limit={8} />);
    expect(screen.getAllByTestId("results-row")).toHaveLength(2);
    const steps = screen.getByRole("list", { name: "longer than 8 words — read in steps" });
    expect(within(steps).getAllByRole("listitem").map((li) => li.textContent?.trim())).toEqual(UNITS);
    expect(steps.getAttribute("lang")).toBe("fr");
    // The steps read as the sentence itself (spaces between them), in its one row.
    expect(steps.closest("tr")!.textContent).toContain(UNITS.join(" "));
    expect(screen.queryByTestId("results-source")).toBeNull();
  });

  it("still badges an over-limit row without units, and words the badge without a known limit", () => {
    render(<SentenceGroupsTable rows={[row(LONG, { over_limit: true, units: [] })]} limit={null} />);
    expect(screen.getByText("longer than the limit — read in steps")).toBeTruthy();
    expect(screen.getByText(LONG)).toBeTruthy();
    expect(screen.queryByRole("list")).toBeNull();
  });

  it("does not badge rows within the limit", () => {
    render(<SentenceGroupsTable rows={cutRows()} limit={8} />);
    expect(screen.queryByText(/read in steps/)).toBeNull();
  });
});
