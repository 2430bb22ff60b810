import type { Metadata } from "next";

import { HistoryTable } from "@/components/history/HistoryTable";

export const metadata: Metadata = { title: "History" };

/** `/history`: the user's jobs. */
export default function Page() {
  return <HistoryTable />;
}
