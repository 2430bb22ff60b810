// @vitest-environment node
// Node's own fetch, Request, FormData and File (jsdom's File cannot be sent by Node's fetch).
import { beforeEach, describe, expect, it, vi } from "vitest";

import { createApi, filenameOf } from "@/lib/api/client";
import { ApiError, humanMessage, jobProblem } from "@/lib/api/errors";
import { createTokenStore } from "@/lib/api/tokens";

import { makeJob, MemoryStorage } from "./fixtures";

const BASE = "http://folio.test";
const session = new MemoryStorage();
const JOB = makeJob("running");

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function apiError(code: string, status: number, details?: Record<string, unknown>): Response {
  return json({ error: { code, message: `server says ${code}`, ...(details ? { details } : {}) } }, status);
}

const pair = (n: number) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "Bearer", expires_in: 900 });

type Handler = (request: Request) => Response | Promise<Response>;

/** An API client on a fake server, recording every request it receives. */
function setup(handler: Handler) {
  const requests: Request[] = [];
  const fetch = vi.fn(async (request: Request) => {
    requests.push(request.clone());
    return handler(request);
  });
  const onSessionEnded = vi.fn();
  const tokens = createTokenStore(session);
  const api = createApi({ tokens, baseUrl: BASE, fetch, onSessionEnded });
  return { api, tokens, requests, fetch, onSessionEnded };
}

const path = (request: Request) => new URL(request.url).pathname;
const auth = (request: Request) => request.headers.get("Authorization");

beforeEach(() => session.clear());

describe("tokens", () => {
  it("keeps the access token in memory and only the refresh token in sessionStorage", async () => {
    const { api, tokens, requests } = setup((request) =>
      path(request) === "/api/v1/auth/login" ? json(pair(1)) : json({ balance: 12 }),
    );
    await api.login("reader@example.com", "correct horse battery");
    expect(tokens.access()).toBe("access-1");
    expect(session.getItem("folio.refresh")).toBe("refresh-1");
    expect(session.length).toBe(1);
    expect(await api.balance()).toBe(12);
    expect(auth(requests[1]!)).toBe("Bearer access-1");
    expect(requests.every((request) => !request.url.includes("access-1"))).toBe(true);
  });

  it("refreshes once on token_expired and retries the request with the new token", async () => {
    let refreshes = 0;
    const { api, tokens, requests } = setup((request) => {
      if (path(request) === "/api/v1/auth/refresh") {
        refreshes += 1;
        expect(auth(request)).toBe("Bearer refresh-1");
        return json(pair(2));
      }
      return auth(request) === "Bearer access-2" ? json({ balance: 7 }) : apiError("token_expired", 401);
    });
    tokens.set("access-1", "refresh-1");
    const balances = await Promise.all([api.balance(), api.balance(), api.balance()]);
    expect(balances).toEqual([7, 7, 7]);
    expect(refreshes).toBe(1);
    expect(tokens.refresh()).toBe("refresh-2");
    expect(session.getItem("folio.refresh")).toBe("refresh-2");
    expect(requests.filter((request) => path(request) === "/api/v1/credits/balance").length).toBe(6);
  });

  it("retries an upload with its body after a refresh", async () => {
    const { api, tokens } = setup(async (request) => {
      if (path(request) === "/api/v1/auth/refresh") return json(pair(2));
      if (auth(request) !== "Bearer access-2") return apiError("token_expired", 401);
      const form = await request.formData();
      const file = form.get("file") as File;
      return json({ id: "u1", filename: file.name, size: file.size }, 201);
    });
    tokens.set("access-1", "refresh-1");
    const file = new File(["%PDF-1.7 body"], "livre.pdf", { type: "application/pdf" });
    const upload = await api.upload(file);
    expect(upload).toMatchObject({ id: "u1", filename: "livre.pdf", size: 13 });
  });

  it("ends the session when the refresh is refused", async () => {
    const { api, tokens, onSessionEnded } = setup((request) =>
      path(request) === "/api/v1/auth/refresh" ? apiError("token_revoked", 401) : apiError("token_expired", 401),
    );
    tokens.set("access-1", "refresh-1");
    await expect(api.balance()).rejects.toMatchObject({ code: "token_expired", status: 401 });
    expect(tokens.access()).toBeNull();
    expect(session.getItem("folio.refresh")).toBeNull();
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
    expect(onSessionEnded).toHaveBeenCalledWith(expect.objectContaining({ code: "token_revoked" }));
  });

  it("ends the session when the API refuses the access token for another reason", async () => {
    const { api, tokens, onSessionEnded } = setup(() => apiError("token_revoked", 401));
    tokens.set("access-1", "refresh-1");
    await expect(api.ledger()).rejects.toMatchObject({ code: "token_revoked" });
    expect(tokens.refresh()).toBeNull();
    expect(onSessionEnded).toHaveBeenCalledTimes(1);
  });

  it("a wrong password at sign-in is an error, not the end of a session", async () => {
    const { api, onSessionEnded } = setup(() => apiError("invalid_credentials", 401));
    await expect(api.login("a@b.c", "wrong password")).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(onSessionEnded).not.toHaveBeenCalled();
  });

  it("after a reload, gets an access token from the stored refresh token first", async () => {
    session.setItem("folio.refresh", "refresh-9");
    const { api, requests } = setup((request) =>
      path(request) === "/api/v1/auth/refresh" ? json(pair(10)) : json({ id: 1, email: "a@b.c", role: "user", balance: 3 }),
    );
    expect((await api.me()).balance).toBe(3);
    expect(requests.map(path)).toEqual(["/api/v1/auth/refresh", "/api/v1/auth/me"]);
    expect(auth(requests[1]!)).toBe("Bearer access-10");
  });

  it("logout revokes on the server and forgets the tokens even if the server fails", async () => {
    const { api, tokens, requests } = setup(() => apiError("internal_error", 500));
    tokens.set("access-1", "refresh-1");
    await api.logout();
    expect(requests.map(path)).toEqual(["/api/v1/auth/logout"]);
    expect(tokens.access()).toBeNull();
    expect(tokens.refresh()).toBeNull();
  });
});

describe("errors", () => {
  it("maps an error body to an ApiError with code, message, status and details", async () => {
    const { api, tokens } = setup(() => apiError("insufficient_credits", 402, { balance: 10, needed: 445 }));
    tokens.set("a", "r");
    const error = await api.createJob("u1", { limit: 8 }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "insufficient_credits", status: 402, message: "server says insufficient_credits" });
    expect(humanMessage(error as ApiError)).toBe("You do not have enough credits for this. Needed: 445, balance: 10.");
  });

  it("names a failed network as network_error and a proxy's HTML page as service_unavailable", async () => {
    const offline = setup(() => Promise.reject(new TypeError("Failed to fetch")));
    offline.tokens.set("a", "r");
    await expect(offline.api.balance()).rejects.toMatchObject({ code: "network_error", status: 0 });
    const proxy = setup(() => new Response("<html>Bad gateway</html>", { status: 502 }));
    proxy.tokens.set("a", "r");
    const error = (await proxy.api.balance().catch((thrown: unknown) => thrown)) as ApiError;
    expect(error.code).toBe("service_unavailable");
    expect(humanMessage(error)).toMatch(/unavailable/);
  });

  it("falls back to the server's message for a code it does not know", () => {
    expect(humanMessage(new ApiError("brand_new_code", "Something new happened.", 400))).toBe("Something new happened.");
  });

  it("words a finished job's own error code", () => {
    expect(jobProblem({ error_code: "chunks_failed", error_message: "1 of 15 chunks failed" })).toBe(
      "Some parts of the document could not be processed.",
    );
    expect(jobProblem({ error_code: null })).toBeNull();
  });

  it("lists the fields of a validation error", () => {
    const error = new ApiError("validation_error", "Bad.", 422, { password: ["Too short."] });
    expect(humanMessage(error)).toBe("Some fields are not valid. Please check them and try again. password: Too short.");
  });
});

describe("jobs", () => {
  it("polls with If-None-Match and answers null on 304", async () => {
    const { api, tokens, requests } = setup((request) =>
      request.headers.get("If-None-Match") === '"j.3"'
        ? new Response(null, { status: 304 })
        : json(JOB, 200, { ETag: '"j.3"' }),
    );
    tokens.set("a", "r");
    const first = await api.pollJob(JOB.id, null);
    expect(first).toEqual({ job: JOB, etag: '"j.3"' });
    expect(await api.pollJob(JOB.id, '"j.3"')).toBeNull();
    expect(requests[0]!.headers.get("If-None-Match")).toBeNull();
    expect(path(requests[1]!)).toBe(`/api/v1/jobs/${JOB.id}`);
  });

  it("downloads with the Authorization header and the file name of the answer", async () => {
    const { api, tokens, requests } = setup(
      () =>
        new Response("text,page\n", {
          headers: {
            "Content-Type": "text/csv",
            "Content-Disposition": "attachment; filename=L_Education.csv; filename*=UTF-8''L%E2%80%99%C3%89ducation.csv",
          },
        }),
    );
    tokens.set("access-1", "r");
    const download = await api.download(JOB.id, "csv");
    expect(download.filename).toBe("L’Éducation.csv");
    expect(await download.blob.text()).toBe("text,page\n");
    expect(auth(requests[0]!)).toBe("Bearer access-1");
    expect(new URL(requests[0]!.url).search).toBe("?format=csv");
  });

  it("reads plain and missing file names", () => {
    expect(filenameOf('attachment; filename="book.xlsx"', "x")).toBe("book.xlsx");
    expect(filenameOf(null, "sentences.csv")).toBe("sentences.csv");
  });
});

describe("processors", () => {
  const PROCESSORS = [
    { name: "local", available: true, default_model: "", models: [] },
    { name: "gemini", available: false, default_model: "gemini-2.5-flash", models: ["gemini-2.5-flash", "gemini-2.5-flash-lite"] },
    { name: "openai", available: true, default_model: "local-model", models: ["local-model"] },
  ];

  it("lists the server's processors with the Authorization header", async () => {
    const { api, tokens, requests } = setup(() => json(PROCESSORS));
    tokens.set("access-1", "r");
    expect(await api.listProcessors()).toEqual(PROCESSORS);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe("GET");
    expect(path(requests[0]!)).toBe("/api/v1/processors");
    expect(auth(requests[0]!)).toBe("Bearer access-1");
  });

  it("throws the API's error as an ApiError with its message", async () => {
    const { api, tokens } = setup(() => apiError("service_unavailable", 503));
    tokens.set("access-1", "r");
    const error = await api.listProcessors().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("service_unavailable");
    expect((error as ApiError).status).toBe(503);
  });
});
