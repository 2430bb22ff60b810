/** Every error code the API (or the network) can give, and what the user reads for it. */

/** What the UI shows for each error code; the API's own message is used for others. */
export const ERROR_MESSAGES: Readonly<Record<string, string>> = {
  // Accounts and tokens
  invalid_credentials: "Wrong e-mail address or password.",
  email_taken: "An account already uses this e-mail address. Sign in instead.",
  token_missing: "Please sign in to continue.",
  token_expired: "Your session has expired. Please sign in again.",
  token_invalid: "Your session is not valid any more. Please sign in again.",
  token_revoked: "You were signed out (perhaps from another tab). Please sign in again.",
  wrong_token_type: "Your session is not valid any more. Please sign in again.",
  user_not_found: "This account no longer exists.",
  rate_limited: "Too many attempts. Please wait a moment and try again.",
  validation_error: "Some fields are not valid. Please check them and try again.",
  // Uploads
  file_too_large: "This file is too large to upload.",
  too_many_pages: "This document has too many pages.",
  unsupported_media_type: "Only PDF files can be uploaded.",
  not_a_pdf: "This file is not a PDF.",
  empty_file: "This file is empty.",
  damaged_pdf: "This PDF is damaged and cannot be read.",
  no_pages: "This PDF has no pages.",
  password_required: "This PDF is protected by a password. Enter it to continue.",
  wrong_password: "The password of this PDF is wrong.",
  invalid_input: "This file cannot be processed.",
  upload_not_found: "This upload no longer exists. Please upload the file again.",
  upload_expired: "This upload has expired. Please upload the file again.",
  upload_used: "This upload already has a job. Open it from the history.",
  filename_not_utf8: "The file's name could not be read. Rename the file and upload it again.",
  document_too_complex: "This document is too complex to read safely (a page takes too much memory or time).",
  page_too_complex: "A page of this document is too complex to read safely; it was left out.",
  // Jobs and results
  invalid_settings: "These settings are not valid (check the sentence limit and minimum words).",
  insufficient_credits: "You do not have enough credits for this.",
  job_not_found: "This job does not exist (or was deleted).",
  job_finished: "This job has already ended.",
  job_active: "This job is still running. Cancel it before deleting it.",
  job_not_retryable: "This job has no failed parts to retry.",
  job_not_finished: "This job has not finished yet; its sentences are not ready.",
  invalid_format: "This export format is not available.",
  invalid_cursor: "The list changed; please reload the page.",
  chunks_failed: "Some parts of the document could not be processed.",
  pages_unreadable: "Some pages could not be read safely and were left out (not charged).",
  no_text: "No text could be read from this document, not even by OCR: nothing was charged.",
  ocr_unavailable: "This document has scanned pages, and OCR (Tesseract with its language data) is not available on this server.",
  file_gone: "The stored document of this job is gone; upload it again to process it.",
  unexpected_error: "An unexpected error stopped part of this job.",
  llm_unavailable: "The language model did not answer. Try again later or use the local processor.",
  // Generic answers
  not_found: "This page or item does not exist.",
  bad_request: "The request was not understood.",
  json_too_deep: "The request is nested too deeply to be read.",
  method_not_allowed: "This action is not allowed here.",
  conflict: "This cannot be done in the current state. Reload and try again.",
  service_error: "The request could not be completed.",
  pipeline_error: "The document could not be processed.",
  internal_error: "Something went wrong on the server. Please try again later.",
  service_unavailable: "The service is unavailable for a moment. Please try again later.",
  frontend_not_built: "The web interface is not built on this server yet.",
  // Client-side
  network_error: "Cannot reach the server. Check your connection and try again.",
  unexpected_response: "The server gave an unexpected answer. Please try again.",
};

/** An API failure: the stable `code`, the server's message, HTTP status and details. */
export class ApiError extends Error {
  /** Build an error from the API's `{code, message, details}` and the HTTP status. */
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Whether `value` has the shape of the API's `{"error": {code, message}}` body. */
function isErrorBody(value: unknown): value is { error: { code: string; message: string; details?: Record<string, unknown> } } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

/** Turn an error answer (parsed body, if any, and status) into an ApiError. */
export function toApiError(body: unknown, status: number): ApiError {
  if (isErrorBody(body)) {
    const { code, message, details } = body.error;
    return new ApiError(code, message, status, details);
  }
  if (status === 502 || status === 503 || status === 504) {
    return new ApiError("service_unavailable", `HTTP ${status}`, status);
  }
  return new ApiError("unexpected_response", `HTTP ${status}`, status);
}

/** Turn anything thrown while calling the API into an ApiError. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) return new ApiError("network_error", error.message, 0);
  return new ApiError("unexpected_response", String(error), 0);
}

/** The sentence a person reads for `error`, with the details that make it concrete. */
export function humanMessage(error: ApiError): string {
  const base = ERROR_MESSAGES[error.code] ?? error.message;
  const details = error.details ?? {};
  if (error.code === "insufficient_credits" && typeof details.needed === "number") {
    return `${base} Needed: ${String(details.needed)}, balance: ${String(details.balance)}.`;
  }
  if (error.code === "validation_error" && Object.keys(details).length > 0) {
    const fields = Object.entries(details).map(([field, problems]) => {
      const text = Array.isArray(problems) ? problems.map(String).join(" ") : String(problems);
      return `${field}: ${text}`;
    });
    return `${base} ${fields.join(" ")}`;
  }
  return base;
}

/** A finished job's own error (`error_code`, `error_message`) as a sentence, or null. */
export function jobProblem(job: { error_code?: string | null; error_message?: string | null }): string | null {
  if (!job.error_code) return null;
  return humanMessage(new ApiError(job.error_code, job.error_message ?? job.error_code, 0));
}
