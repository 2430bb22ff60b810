import type { ReactNode } from "react";

import { RequireAuth } from "@/components/auth/RequireAuth";

/**
 * Every page that needs an account: `/`, `/history`, `/jobs/view`, `/settings`, `/credits`.
 * A route group, so the folder adds nothing to their URLs; the guard is client-side, as the
 * export is static (it renders "Loading…" until the session is known).
 */
export default function SignedInLayout({ children }: { children: ReactNode }) {
  return <RequireAuth>{children}</RequireAuth>;
}
