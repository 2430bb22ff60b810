"use client";

import { QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";

import { browserApi } from "@/lib/api/session";

import { ApiProvider } from "./api";
import { createQueryClient } from "./client";

/** This tab's query cache and API client, for every page below it. */
export function DataProvider({ children }: { children: ReactNode }) {
  const [client] = useState(createQueryClient);
  const [api] = useState(browserApi);
  return (
    <QueryClientProvider client={client}>
      <ApiProvider api={api}>{children}</ApiProvider>
    </QueryClientProvider>
  );
}
