"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";

import { ErrorMessage } from "@/components/ui/ErrorMessage";
import { ApiError, asApiError } from "@/lib/api/errors";

import { useAuth } from "./AuthProvider";

/** The sign-in form (`login`) or the sign-up form (`signup`). */
export function AuthForm({ mode }: { mode: "login" | "signup" }) {
  const { signIn, signUp, endedBecause } = useAuth();
  const router = useRouter();
  const id = useId();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await (signup ? signUp : signIn)(email, password);
      router.push("/");
    } catch (thrown) {
      setError(asApiError(thrown));
      setBusy(false);
    }
  }

  const shown = error ?? (signup ? null : endedBecause);
  return (
    <form className="card narrow stack" onSubmit={submit} data-testid={`${mode}-form`} aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{signup ? "Create an account" : "Sign in"}</h1>
      <div className="field">
        <label htmlFor={`${id}-email`}>E-mail address</label>
        <input
          id={`${id}-email`}
          type="email"
          autoComplete="email"
          required
          maxLength={254}
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          type="password"
          autoComplete={signup ? "new-password" : "current-password"}
          required
          minLength={signup ? 10 : undefined}
          maxLength={128}
          aria-describedby={signup ? `${id}-hint` : undefined}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        {signup && (
          <p id={`${id}-hint`} className="hint">
            10 to 128 characters, not your e-mail address.
          </p>
        )}
      </div>
      {shown && <ErrorMessage error={shown} />}
      <button type="submit" className="primary" disabled={busy}>
        {signup ? "Create account" : "Sign in"}
      </button>
      <p className="muted">
        {signup ? "Already have an account? " : "New to Folio? "}
        <Link href={signup ? "/login" : "/signup"}>{signup ? "Sign in" : "Create an account"}</Link>
      </p>
    </form>
  );
}
