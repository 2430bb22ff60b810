import { useQueryClient } from "@tanstack/react-query";
import { act, cleanup, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { AuthProvider, useAuth } from "@/components/auth/AuthProvider";
import { RequireAuth } from "@/components/auth/RequireAuth";
import type { Api } from "@/lib/api/client";
import { createQueryClient } from "@/lib/queries/client";
import { useBalance } from "@/lib/queries/credits";
import { queryKeys } from "@/lib/queries/keys";

import { dataWrapper, testApi } from "./data";

const replace = vi.fn();
vi.mock("next/navigation", () => ({ useRouter: () => ({ replace, push: vi.fn() }) }));

const USER = { id: 1, email: "reader@example.com", role: "user" as const, balance: 500 };
const PAIR = { access_token: "a", refresh_token: "r", token_type: "Bearer", expires_in: 900 };

afterEach(() => {
  cleanup();
  replace.mockReset();
});

/** AuthProvider on a fresh cache, with the session as the hooks' pages see it. */
function session(overrides: Partial<Api>) {
  const client = createQueryClient();
  const Data = dataWrapper(testApi({ resume: () => Promise.resolve(null), ...overrides }), client);
  const wrapper = ({ children }: { children: ReactNode }) => (
    <Data>
      <AuthProvider>{children}</AuthProvider>
    </Data>
  );
  const hook = renderHook(() => ({ auth: useAuth(), balance: useBalance(useAuth().status === "signed-in"), client: useQueryClient() }), {
    wrapper,
  });
  return { client, wrapper, ...hook };
}

describe("the session and the cache", () => {
  it("shows the balance of the account signing in without asking for it again", async () => {
    const balance = vi.fn<Api["balance"]>().mockResolvedValue(1);
    const { result } = session({ login: () => Promise.resolve(PAIR), me: () => Promise.resolve(USER), balance });
    await waitFor(() => expect(result.current.auth.status).toBe("signed-out"));
    await act(() => result.current.auth.signIn(USER.email, "correct horse battery"));
    expect(result.current.auth.status).toBe("signed-in");
    expect(result.current.balance).toBe(500);
    expect(balance).not.toHaveBeenCalled();
  });

  it("forgets every cached answer when the user signs out", async () => {
    const { result, client } = session({
      login: () => Promise.resolve(PAIR),
      me: () => Promise.resolve(USER),
      logout: () => Promise.resolve(),
    });
    await waitFor(() => expect(result.current.auth.status).toBe("signed-out"));
    await act(() => result.current.auth.signIn(USER.email, "correct horse battery"));
    client.setQueryData(queryKeys.jobList, { pages: [], pageParams: [] });
    await act(() => result.current.auth.signOut());
    expect(result.current.auth.status).toBe("signed-out");
    expect(client.getQueryCache().getAll().every((query) => query.state.data === undefined)).toBe(true);
    expect(client.getQueryData(queryKeys.jobList)).toBeUndefined();
    expect(client.getQueryData(queryKeys.balance)).toBeUndefined();
  });
});

describe("RequireAuth (the signed-in layout's guard)", () => {
  it("sends a signed-out visitor to the sign-in page and shows nothing of the page", async () => {
    const { wrapper } = session({});
    render(<RequireAuth>the page</RequireAuth>, { wrapper });
    await waitFor(() => expect(replace).toHaveBeenCalledWith("/login"));
    expect(screen.queryByText("the page")).toBeNull();
  });

  it("shows the page to a signed-in user after a reload", async () => {
    const { wrapper } = session({ resume: () => Promise.resolve(USER) });
    render(<RequireAuth>the page</RequireAuth>, { wrapper });
    expect(screen.getByRole("status").textContent).toBe("Loading…");
    expect(await screen.findByText("the page")).toBeTruthy();
    expect(replace).not.toHaveBeenCalled();
  });
});
