/** Shared test data: a job as the API returns it. */
import type { JobDetail, JobStatus } from "@/lib/api/types";

/** A job of `status`, with the other fields filled with plausible values. */
export function makeJob(status: JobStatus, overrides: Partial<JobDetail> = {}): JobDetail {
  return {
    id: "0b4e8f1e-7a0d-4d7e-9d5b-3f1e2a9c6b11",
    status,
    filename: "education.pdf",
    page_count: 445,
    progress_percent: 40,
    current_step: "processing",
    total_chunks: 18,
    processed_chunks: 7,
    failed_chunks: 0,
    current_page: 175,
    total_pages: 445,
    ocr_pages: 0,
    ocr_seconds: 0,
    estimated_credits: 445,
    reserved_credits: 445,
    charged_credits: null,
    sentence_count: null,
    llm_calls: 0,
    tokens_in: 0,
    tokens_out: 0,
    run: 0,
    version: 3,
    created_at: "2025-01-01T10:00:00+00:00",
    updated_at: "2025-01-01T10:00:05+00:00",
    missing_pages: [],
    ...overrides,
  };
}

/** A Storage kept in memory (sessionStorage for tests that run outside a DOM). */
export class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}
