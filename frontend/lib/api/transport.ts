/**
 * The fetch that every API call goes through: it adds the access token, and when the API
 * answers 401 `token_expired` (or no access token is held yet) it rotates the refresh token
 * once — one rotation at a time, as the API's reuse detection requires — and retries. Any
 * other 401 to a request that carried a token (revoked, invalid, account deleted) ends the
 * session: the tokens are forgotten and `onSessionEnded` says why.
 */
import { ApiError, toApiError } from "./errors";
import type { TokenStore } from "./tokens";

const REFRESH_PATH = "/api/v1/auth/refresh";

/** What the transport needs: the tokens, the base URL, and what to call when a session ends. */
export interface TransportOptions {
  tokens: TokenStore;
  baseUrl: string;
  fetch?: (request: Request) => Promise<Response>;
  onSessionEnded?: (error: ApiError) => void;
}

/** Read a JSON body without consuming the response; null when it is not JSON. */
async function peekJson(response: Response): Promise<unknown> {
  try {
    return await response.clone().json();
  } catch {
    return null;
  }
}

/** Whether a 401 answer says that the access token expired (refresh and retry). */
async function isExpired(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  return toApiError(await peekJson(response), 401).code === "token_expired";
}

/** A fetch for openapi-fetch that authenticates requests and refreshes expired tokens. */
export function createAuthFetch(options: TransportOptions): (request: Request) => Promise<Response> {
  const { tokens, baseUrl } = options;
  const send = (request: Request) => (options.fetch ?? globalThis.fetch)(request);
  let refreshing: Promise<boolean> | null = null;

  async function rotate(): Promise<boolean> {
    const refreshToken = tokens.refresh();
    if (refreshToken === null) return false;
    const request = new Request(`${baseUrl}${REFRESH_PATH}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${refreshToken}` },
      cache: "no-store",
    });
    const response = await send(request);
    const body = await peekJson(response);
    if (!response.ok) {
      // Only a definite refusal ends the session; a network or server failure keeps it.
      if (response.status === 401) endSession(toApiError(body, 401));
      return false;
    }
    const pair = body as { access_token: string; refresh_token: string };
    tokens.set(pair.access_token, pair.refresh_token);
    return true;
  }

  function endSession(error: ApiError): void {
    if (tokens.access() === null && tokens.refresh() === null) return;
    tokens.clear();
    options.onSessionEnded?.(error);
  }

  /** Rotate the refresh token, sharing one rotation between concurrent callers. */
  function refreshOnce(): Promise<boolean> {
    refreshing ??= rotate().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  function authorize(request: Request): Request {
    const access = tokens.access();
    if (access !== null) request.headers.set("Authorization", `Bearer ${access}`);
    return request;
  }

  return async function authFetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname === REFRESH_PATH) return send(request);
    // After a reload only the refresh token is left: get an access token first.
    if (tokens.access() === null && tokens.refresh() !== null) await refreshOnce();
    const retry = request.clone();
    let response = await send(authorize(request));
    if ((await isExpired(response)) && (await refreshOnce())) response = await send(authorize(retry));
    if (response.status === 401 && tokens.access() !== null) endSession(toApiError(await peekJson(response), 401));
    return response;
  };
}
