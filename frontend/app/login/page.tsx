import type { Metadata } from "next";

import { AuthForm } from "@/components/auth/AuthForm";

export const metadata: Metadata = { title: "Sign in" };

/** `/login`: sign in. */
export default function Page() {
  return <AuthForm mode="login" />;
}
