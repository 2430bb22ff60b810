// @vitest-environment node
// The cache over the real client and a fake server: what goes over HTTP, and what is cached.
import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it } from "vitest";

import { createApi } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { createTokenStore } from "@/lib/api/tokens";
import { createQueryClient } from "@/lib/queries/client";
import { call } from "@/lib/queries/fetcher";
import { jobQuery } from "@/lib/queries/jobs";
import { queryKeys } from "@/lib/queries/keys";

import { makeJob, MemoryStorage } from "./fixtures";

const JOB = makeJob("running");
let client: QueryClient = createQueryClient();

afterEach(() => client.clear());

/** A signed-in client on a fake server answering `handler`, and the requests it received. */
function serve(handler: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const tokens = createTokenStore(new MemoryStorage());
  tokens.set("access-1", "refresh-1");
  const api = createApi({
    tokens,
    baseUrl: "http://folio.test",
    fetch: async (request) => {
      requests.push(request.clone());
      return handler(request);
    },
  });
  client = createQueryClient();
  return { api, requests };
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json", ...headers } });

describe("the ETag-aware job fetcher", () => {
  it("sends the cached ETag and keeps the cached job on 304", async () => {
    const { api, requests } = serve((request) =>
      request.headers.get("If-None-Match") === '"j.3"' ? new Response(null, { status: 304 }) : json(JOB, { ETag: '"j.3"' }),
    );
    const query = jobQuery(api, JOB.id);
    const first = await client.fetchQuery(query);
    expect(first).toEqual({ job: JOB, etag: '"j.3"' });
    const second = await client.fetchQuery({ ...query, staleTime: 0 });
    expect(second).toBe(first);
    expect(requests.map((request) => request.headers.get("If-None-Match"))).toEqual([null, '"j.3"']);
    expect(requests.every((request) => request.headers.get("Authorization") === "Bearer access-1")).toBe(true);
  });

  it("replaces the job and its ETag when it changed", async () => {
    let version = 3;
    const { api, requests } = serve(() => json(makeJob("running", { version }), { ETag: `"j.${version}"` }));
    const query = { ...jobQuery(api, JOB.id), staleTime: 0 };
    await client.fetchQuery(query);
    version = 4;
    const next = await client.fetchQuery(query);
    expect(next).toMatchObject({ job: { version: 4 }, etag: '"j.4"' });
    await client.fetchQuery(query);
    expect(requests[2]!.headers.get("If-None-Match")).toBe('"j.4"');
  });

  it("refuses a 304 for a job it never read", async () => {
    const { api } = serve(() => new Response(null, { status: 304 }));
    const error = await client.fetchQuery(jobQuery(api, JOB.id)).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("unexpected_response");
  });

  it("invalidates the credits and the job list when the job reaches a final status", async () => {
    let status: "running" | "completed" = "running";
    const { api } = serve(() => json(makeJob(status), { ETag: `"${status}"` }));
    client.setQueryData(queryKeys.balance, 445);
    client.setQueryData(queryKeys.jobList, { pages: [], pageParams: [] });
    const query = { ...jobQuery(api, JOB.id), staleTime: 0 };
    await client.fetchQuery(query);
    expect(client.getQueryState(queryKeys.balance)?.isInvalidated).toBe(false);
    status = "completed";
    await client.fetchQuery(query);
    expect(client.getQueryState(queryKeys.balance)?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.jobList)?.isInvalidated).toBe(true);
  });
});

describe("error mapping in the cache", () => {
  it("caches the API's error body as an ApiError with its code, status and details", async () => {
    const { api } = serve(
      () =>
        new Response(JSON.stringify({ error: { code: "job_not_found", message: "No such job.", details: { id: "x" } } }), {
          status: 404,
          headers: { "Content-Type": "application/json" },
        }),
    );
    await client.prefetchQuery(jobQuery(api, JOB.id));
    const error = client.getQueryState(queryKeys.job(JOB.id))?.error;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "job_not_found", status: 404, details: { id: "x" } });
  });

  it("caches a failed network as network_error and a proxy's page as service_unavailable", async () => {
    const offline = serve(() => Promise.reject(new TypeError("Failed to fetch")));
    await client.prefetchQuery(jobQuery(offline.api, JOB.id));
    expect(client.getQueryState(queryKeys.job(JOB.id))?.error).toMatchObject({ code: "network_error", status: 0 });
    const proxy = serve(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    await client.prefetchQuery(jobQuery(proxy.api, JOB.id));
    expect(client.getQueryState(queryKeys.job(JOB.id))?.error).toMatchObject({ code: "service_unavailable", status: 502 });
  });

  it("call turns anything thrown into an ApiError", async () => {
    await expect(call(() => Promise.reject(new TypeError("Failed to fetch")))).rejects.toMatchObject({ code: "network_error" });
    await expect(call(() => Promise.reject(new Error("boom")))).rejects.toBeInstanceOf(ApiError);
    const kept = new ApiError("rate_limited", "Slow down.", 429);
    await expect(call(() => Promise.reject(kept))).rejects.toBe(kept);
    expect(await call(() => Promise.resolve(7))).toBe(7);
  });
});
