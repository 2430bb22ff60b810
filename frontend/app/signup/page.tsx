import type { Metadata } from "next";

import { AuthForm } from "@/components/auth/AuthForm";

export const metadata: Metadata = { title: "Create an account" };

/** `/signup`: create an account. */
export default function Page() {
  return <AuthForm mode="signup" />;
}
