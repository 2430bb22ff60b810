import type { Metadata } from "next";

import { LedgerTable } from "@/components/credits/LedgerTable";

export const metadata: Metadata = { title: "Credits" };

/** `/credits`: the balance and the ledger. */
export default function Page() {
  return <LedgerTable />;
}
