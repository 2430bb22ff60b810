import type { Metadata } from "next";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { LedgerTable } from "@/components/settings/LedgerTable";

export const metadata: Metadata = { title: "Credits" };

/** `/credits`: the balance and the ledger. */
export default function Page() {
  return (
    <RequireAuth>
      <LedgerTable />
    </RequireAuth>
  );
}
