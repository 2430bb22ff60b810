"use client";

import Link from "next/link";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import type { LedgerEntry } from "@/lib/api/types";
import { formatDate } from "@/lib/format";
import { useBalance, useLedger } from "@/lib/queries/credits";

const KINDS: Record<LedgerEntry["kind"], string> = {
  signup_grant: "Sign-up gift",
  monthly_grant: "Monthly credits",
  admin_grant: "Credits added",
  reserve: "Reserved for a job",
  settle: "Unused credits returned",
};

/** The credit ledger: every change of the balance, newest first. */
export function LedgerTable() {
  // Opening this page reads the balance again when it is not fresh (it may have changed since).
  const balance = useBalance();
  const { entries, error, hasMore, loadMore } = useLedger();

  return (
    <section className="stack" aria-labelledby="ledger-title">
      <h1 id="ledger-title">Credits</h1>
      <p>
        Balance: <strong>{balance ?? "…"}</strong> credits. A job reserves its estimate when it starts and gives back
        what it did not use when it ends.
      </p>
      {error && <ErrorMessage error={error} />}
      {entries === null && !error && <p role="status">Loading…</p>}
      {entries !== null && (
        <div className="table-wrap">
          <table className="data-table" data-testid="ledger-table">
            <caption className="visually-hidden">Changes of your balance, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col">Change</th>
                <th scope="col">Balance after</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id} data-testid="ledger-row">
                  <td data-label="Date">{formatDate(entry.created_at)}</td>
                  <td data-label="What">
                    {KINDS[entry.kind]}
                    {entry.period && ` (${entry.period})`}
                    {entry.job_id && (
                      <>
                        {" "}
                        <Link href={`/jobs/view?id=${entry.job_id}`}>job</Link>
                      </>
                    )}
                    {entry.note && <span className="muted"> — {entry.note}</span>}
                  </td>
                  <td data-label="Change" className={entry.delta < 0 ? "negative" : "positive"}>
                    {entry.delta > 0 ? `+${entry.delta}` : entry.delta}
                  </td>
                  <td data-label="Balance after">{entry.balance_after}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {hasMore && (
        <div className="actions">
          <button type="button" onClick={loadMore}>
            Show older entries
          </button>
        </div>
      )}
    </section>
  );
}
