/** The credit balance (shown in the header) and the ledger. */
"use client";

import { useInfiniteQuery, useQuery } from "@tanstack/react-query";

import { useApi } from "./api";
import { call } from "./fetcher";
import { queryKeys } from "./keys";

/**
 * How long a balance counts as fresh. Sign-in seeds it from the account, so the header does not
 * read it again at once; a page that shows it (the ledger) reads it again when it is older.
 * Actions that change it invalidate it, which ignores this.
 */
const BALANCE_FRESH_MS = 5_000;

/** The signed-in user's balance, or null before it is known (nothing is read unless `enabled`). */
export function useBalance(enabled = true): number | null {
  const api = useApi();
  const query = useQuery({
    queryKey: queryKeys.balance,
    queryFn: () => call(() => api.balance()),
    enabled,
    staleTime: BALANCE_FRESH_MS,
  });
  return query.data ?? null;
}

/** The credit ledger, newest first, a page at a time. */
export function useLedger() {
  const api = useApi();
  const query = useInfiniteQuery({
    queryKey: queryKeys.ledger,
    queryFn: ({ pageParam }) => call(() => api.ledger(pageParam)),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.next_before ?? undefined,
  });
  return {
    entries: query.data?.pages.flatMap((page) => page.items) ?? null,
    error: query.error,
    hasMore: query.hasNextPage,
    loadMore: () => void query.fetchNextPage(),
  };
}
