import type { Metadata } from "next";

import { HomePage } from "@/components/upload/HomePage";

export const metadata: Metadata = { title: "Upload" };

/** `/`: upload a PDF and follow its job. */
export default function Page() {
  return <HomePage />;
}
