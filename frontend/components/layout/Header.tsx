"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

import { useAuth } from "@/components/auth/AuthProvider";
import { useBalance } from "@/lib/queries/credits";

const LINKS = [
  { href: "/", label: "Upload" },
  { href: "/history", label: "History" },
  { href: "/credits", label: "Credits" },
  { href: "/settings", label: "Settings" },
];

/** The site header: navigation, the credit balance and the account menu. */
export function Header() {
  const { status, user, signOut } = useAuth();
  const balance = useBalance(status === "signed-in");
  const pathname = usePathname();
  return (
    <header className="site-header">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Link href="/" className="brand">
        Folio
      </Link>
      {status === "signed-in" && (
        <>
          <nav aria-label="Main">
            <ul>
              {LINKS.map((link) => (
                <li key={link.href}>
                  <Link href={link.href} aria-current={pathname === link.href ? "page" : undefined}>
                    {link.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="account">
            <Link href="/credits" className="balance" aria-label={`Credit balance: ${balance ?? "…"} credits`}>
              <span data-testid="balance">{balance ?? "…"}</span> credits
            </Link>
            <span className="email" title={user?.email}>
              {user?.email}
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </>
      )}
      {status === "signed-out" && (
        <nav aria-label="Account" className="account">
          <Link href="/login">Sign in</Link>
          <Link href="/signup" className="button primary">
            Sign up
          </Link>
        </nav>
      )}
    </header>
  );
}
