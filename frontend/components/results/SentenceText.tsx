import { useId } from "react";

import type { Sentence } from "@/lib/api/types";
import { overLimitLabel } from "@/lib/sentences";

/**
 * A row's text. A row left longer than the limit (`over_limit`) shows a badge saying so, then
 * its sense groups (`units`) as short segments, one under the other, to read it in steps: they
 * are slices of this one row, not sentences, and never rows of their own.
 */
export function SentenceText({
  sentence,
  limit,
}: {
  sentence: Pick<Sentence, "text" | "over_limit" | "units">;
  limit: number | null;
}) {
  const id = useId();
  if (!sentence.over_limit || sentence.units.length < 2) {
    return (
      <span lang="fr" className="sentence-text">
        {sentence.text}
        {sentence.over_limit && (
          <>
            {" "}
            <span className="badge badge-over-limit">{overLimitLabel(limit)}</span>
          </>
        )}
      </span>
    );
  }
  return (
    <div className="over-limit">
      <span className="badge badge-over-limit" id={`${id}-badge`}>
        {overLimitLabel(limit)}
      </span>
      <ol className="units" lang="fr" aria-labelledby={`${id}-badge`} data-testid="sentence-units">
        {sentence.units.map((unit, index) => (
          // Units are slices of the row: the same one can come twice, so the index is the key.
          <li key={index}>
            {unit}
            {index < sentence.units.length - 1 ? " " : ""}
          </li>
        ))}
      </ol>
    </div>
  );
}
