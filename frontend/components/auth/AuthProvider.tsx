"use client";

import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { ApiError, asApiError } from "@/lib/api/errors";
import { onSessionEnded } from "@/lib/api/session";
import type { User } from "@/lib/api/types";
import { useApi } from "@/lib/queries/api";
import { queryKeys } from "@/lib/queries/keys";

type Status = "loading" | "signed-in" | "signed-out";

/** The session as the pages see it. */
interface Auth {
  status: Status;
  user: User | null;
  /** Why the last session ended on its own (revoked, expired), shown on the sign-in page. */
  endedBecause: ApiError | null;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

/** Holds the signed-in user for every page below it (inside DataProvider). */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>("loading");
  const [user, setUser] = useState<User | null>(null);
  const [endedBecause, setEndedBecause] = useState<ApiError | null>(null);
  const api = useApi();
  const client = useQueryClient();

  const enter = useCallback(
    (account: User) => {
      // The account carries the balance: the header need not ask for it again.
      client.setQueryData(queryKeys.balance, account.balance);
      setUser(account);
      setEndedBecause(null);
      setStatus("signed-in");
    },
    [client],
  );
  // Nothing of one account may show to the next one signing in in this tab.
  const leave = useCallback(() => {
    setUser(null);
    setStatus("signed-out");
    client.clear();
  }, [client]);

  useEffect(
    () =>
      onSessionEnded((error) => {
        setEndedBecause(error);
        leave();
      }),
    [leave],
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
    leave();
  }, [api, leave]);

  const value = useMemo(
    () => ({ status, user, endedBecause, signIn, signUp, signOut }),
    [status, user, endedBecause, signIn, signUp, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** The session (inside AuthProvider). */
export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (auth === null) throw new Error("useAuth must be used inside <AuthProvider>");
  return auth;
}
