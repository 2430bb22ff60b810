import type { Metadata } from "next";

import { RequireAuth } from "@/components/auth/RequireAuth";
import { SettingsForm } from "@/components/settings/SettingsForm";

export const metadata: Metadata = { title: "Settings" };

/** `/settings`: the settings of the next jobs. */
export default function Page() {
  return (
    <RequireAuth>
      <SettingsForm />
    </RequireAuth>
  );
}
