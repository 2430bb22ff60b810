"use client";

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import type { Api } from "@/lib/api/client";
import { ApiError, asApiError } from "@/lib/api/errors";
import { browserApi, onSessionEnded } from "@/lib/api/session";
import type { User } from "@/lib/api/types";

type Status = "loading" | "signed-in" | "signed-out";

/** The session as the pages see it. */
interface Auth {
  api: Api;
  status: Status;
  user: User | null;
  balance: number | null;
  /** Why the last session ended on its own (revoked, expired), shown on the sign-in page. */
  endedBecause: ApiError | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  refreshBalance: () => void;
}

const AuthContext = createContext<Auth | null>(null);

/** Holds the API client and the signed-in user for every page below it. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>("loading");
  const [user, setUser] = useState<User | null>(null);
  const [balance, setBalance] = useState<number | null>(null);
  const [endedBecause, setEndedBecause] = useState<ApiError | null>(null);
  const [api] = useState(browserApi);

  const enter = useCallback((account: User) => {
    setUser(account);
    setBalance(account.balance);
    setEndedBecause(null);
    setStatus("signed-in");
  }, []);

  useEffect(
    () =>
      onSessionEnded((error) => {
        setUser(null);
        setBalance(null);
        setEndedBecause(error);
        setStatus("signed-out");
      }),
    [],
  );

  // A reload keeps only the refresh token (this tab's sessionStorage): resume from it.
  useEffect(() => {
    api.resume().then(
      (account) => (account === null ? setStatus("signed-out") : enter(account)),
      (error: unknown) => {
        if (asApiError(error).status === 401) api.tokens.clear();
        setStatus("signed-out");
      },
    );
  }, [api, enter]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      await api.login(email, password);
      enter(await api.me());
    },
    [api, enter],
  );
  const signUp = useCallback(
    async (email: string, password: string) => {
      await api.register(email, password);
      enter(await api.me());
    },
    [api, enter],
  );
  const signOut = useCallback(async () => {
    await api.logout();
    setUser(null);
    setBalance(null);
    setStatus("signed-out");
  }, [api]);
  const refreshBalance = useCallback(() => {
    api.balance().then(setBalance, () => undefined);
  }, [api]);

  const value = useMemo(
    () => ({ api, status, user, balance, endedBecause, signIn, signUp, signOut, refreshBalance }),
    [api, status, user, balance, endedBecause, signIn, signUp, signOut, refreshBalance],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** The session and the API client (inside AuthProvider). */
export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (auth === null) throw new Error("useAuth must be used inside <AuthProvider>");
  return auth;
}
