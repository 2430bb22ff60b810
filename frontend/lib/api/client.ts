/** The one typed client of the Folio API: openapi-fetch on the generated types, plus auth. */
import createClient from "openapi-fetch";

import { ApiError, asApiError, toApiError } from "./errors";
import type { paths } from "./schema";
import { createAuthFetch } from "./transport";
import type { TokenStore } from "./tokens";
import type {
  Job,
  JobDetail,
  JobPage,
  JobSettings,
  LedgerPage,
  ProcessorInfo,
  Retry,
  SentencePage,
  Tokens,
  Upload,
  User,
} from "./types";

export type ExportFormat = NonNullable<
  NonNullable<paths["/api/v1/jobs/{job_id}/download"]["get"]["parameters"]["query"]>["format"]
>;

/** Every export format the API offers, with its button label (the type makes it complete). */
export const EXPORT_FORMATS: Readonly<Record<ExportFormat, string>> = {
  csv: "CSV",
  xlsx: "Excel (XLSX)",
  json: "JSON",
  jsonl: "JSON Lines",
  txt: "Text",
  anki: "Anki",
};

/** A poll's answer: the job and its ETag, or `null` when it did not change (304). */
export type JobPoll = { job: JobDetail; etag: string | null } | null;

/** A downloaded export: its bytes and the file name the API suggested. */
export interface Download {
  blob: Blob;
  filename: string;
}

/** The options of `createApi`. */
export interface ApiOptions {
  tokens: TokenStore;
  baseUrl?: string;
  fetch?: (request: Request) => Promise<Response>;
  onSessionEnded?: (error: ApiError) => void;
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Return the data of a successful call, or throw the API's error as an ApiError. */
async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (error) {
    throw asApiError(error);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw toApiError(result.error, result.response.status);
  }
  return result.data as T;
}

/** The file name of a Content-Disposition header (RFC 5987 `filename*` first). */
export function filenameOf(disposition: string | null, fallback: string): string {
  if (!disposition) return fallback;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // A malformed escape: fall through to the plain name.
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain?.[1]?.trim() || fallback;
}

/** Build the API client; every method throws an ApiError on failure. */
export function createApi(options: ApiOptions) {
  const baseUrl = options.baseUrl ?? (typeof window === "undefined" ? "http://localhost" : window.location.origin);
  const { tokens } = options;
  const client = createClient<paths>({
    baseUrl,
    fetch: createAuthFetch({ ...options, baseUrl }),
  });
  const keep = (pair: Tokens): Tokens => {
    tokens.set(pair.access_token, pair.refresh_token);
    return pair;
  };
  const job = (id: string) => ({ params: { path: { job_id: id } } });

  return {
    tokens,
    register: async (email: string, password: string) =>
      keep(await unwrap(client.POST("/api/v1/auth/register", { body: { email, password } }))),
    login: async (email: string, password: string) =>
      keep(await unwrap(client.POST("/api/v1/auth/login", { body: { email, password } }))),
    /** Revoke the session on the server (best effort) and forget the tokens here. */
    async logout(): Promise<void> {
      try {
        if (tokens.access() !== null || tokens.refresh() !== null) await unwrap(client.POST("/api/v1/auth/logout"));
      } catch {
        // Already revoked or unreachable: the tokens are forgotten here all the same.
      } finally {
        tokens.clear();
      }
    },
    me: (): Promise<User> => unwrap(client.GET("/api/v1/auth/me")),
    /** The signed-in user after a reload (from the stored refresh token), or null. */
    resume: async (): Promise<User | null> =>
      tokens.refresh() === null ? null : unwrap(client.GET("/api/v1/auth/me")),
    balance: async (): Promise<number> => (await unwrap(client.GET("/api/v1/credits/balance"))).balance,
    ledger: (before?: number): Promise<LedgerPage> =>
      unwrap(client.GET("/api/v1/credits/ledger", { params: { query: { before, limit: 50 } } })),
    /** The processors a job may ask for on this server (`local` first) and their models. */
    listProcessors: (): Promise<ProcessorInfo[]> => unwrap(client.GET("/api/v1/processors")),
    upload: (file: File, password?: string): Promise<Upload> =>
      unwrap(
        client.POST("/api/v1/uploads", {
          body: { file, password },
          bodySerializer(body) {
            const form = new FormData();
            form.append("file", body.file as Blob, file.name);
            if (body.password) form.append("password", body.password);
            return form;
          },
        }),
      ),
    deleteUpload: (id: string): Promise<void> =>
      unwrap(client.DELETE("/api/v1/uploads/{upload_id}", { params: { path: { upload_id: id } } })).then(() => undefined),
    createJob: (uploadId: string, settings: JobSettings): Promise<Job> =>
      unwrap(client.POST("/api/v1/jobs", { body: { upload_id: uploadId, settings } })),
    listJobs: (before?: string): Promise<JobPage> =>
      unwrap(client.GET("/api/v1/jobs", { params: { query: { before, limit: 20 } } })),
    /** Poll a job: `If-None-Match` with the last ETag, so an unchanged job costs a 304. */
    async pollJob(id: string, etag: string | null): Promise<JobPoll> {
      const headers: Record<string, string> = etag ? { "If-None-Match": etag } : {};
      const call = client.GET("/api/v1/jobs/{job_id}", { ...job(id), headers, cache: "no-store" });
      const result = await call.catch((error: unknown) => {
        throw asApiError(error);
      });
      if (result.response.status === 304) return null;
      const detail = await unwrap(Promise.resolve(result));
      return { job: detail, etag: result.response.headers.get("ETag") };
    },
    cancelJob: (id: string): Promise<Job> => unwrap(client.POST("/api/v1/jobs/{job_id}/cancel", job(id))),
    retryJob: (id: string): Promise<Retry> => unwrap(client.POST("/api/v1/jobs/{job_id}/retry", job(id))),
    deleteJob: (id: string): Promise<void> =>
      unwrap(client.DELETE("/api/v1/jobs/{job_id}", job(id))).then(() => undefined),
    sentences: (id: string, query: { q?: string; after?: number; limit?: number }): Promise<SentencePage> =>
      unwrap(client.GET("/api/v1/jobs/{job_id}/sentences", { params: { path: { job_id: id }, query } })),
    /** Download an export with the Authorization header (never a token in the URL). */
    async download(id: string, format: ExportFormat): Promise<Download> {
      const call = client.GET("/api/v1/jobs/{job_id}/download", {
        params: { path: { job_id: id }, query: { format } },
        parseAs: "blob",
      });
      const result = await call.catch((error: unknown) => {
        throw asApiError(error);
      });
      const blob = await unwrap(Promise.resolve(result));
      const filename = filenameOf(result.response.headers.get("Content-Disposition"), `sentences.${format}`);
      return { blob, filename };
    },
  };
}

/** The API client's type, as built by `createApi`. */
export type Api = ReturnType<typeof createApi>;
