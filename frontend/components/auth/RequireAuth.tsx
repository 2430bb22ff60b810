"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";

import { useAuth } from "./AuthProvider";

/**
 * Shows `children` to a signed-in user; sends anyone else to the sign-in page. Used once, by
 * the `(signed-in)` route group's layout, which holds every page that needs an account.
 */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const router = useRouter();
  useEffect(() => {
    if (status === "signed-out") router.replace("/login");
  }, [status, router]);
  if (status !== "signed-in") {
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    );
  }
  return <>{children}</>;
}
