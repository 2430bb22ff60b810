import type { Metadata } from "next";

import { SettingsForm } from "@/components/settings/SettingsForm";

export const metadata: Metadata = { title: "Settings" };

/** `/settings`: the settings of the next jobs. */
export default function Page() {
  return <SettingsForm />;
}
