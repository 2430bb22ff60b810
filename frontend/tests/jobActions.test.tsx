import type { QueryClient } from "@tanstack/react-query";
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Api } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import type { JobPage, Upload } from "@/lib/api/types";
import { createQueryClient } from "@/lib/queries/client";
import { useBalance } from "@/lib/queries/credits";
import type { JobSnapshot } from "@/lib/queries/fetcher";
import { useCancelJob, useDeleteJob, useRetryJob } from "@/lib/queries/jobActions";
import { jobQuery, useJobList } from "@/lib/queries/jobs";
import { queryKeys } from "@/lib/queries/keys";
import { useStartJob, useUpload } from "@/lib/queries/uploads";

import { dataWrapper, testApi } from "./data";
import { makeJob } from "./fixtures";

const ID = makeJob("running").id;

afterEach(cleanup);

const POLLED = { job: makeJob("running"), etag: '"j.3"' };

/** A fresh cache that polled job ID once (POLLED, unless `pollJob` says otherwise). */
async function setup(overrides: Partial<Api>) {
  const client: QueryClient = createQueryClient();
  const api = testApi({ pollJob: () => Promise.resolve(POLLED), ...overrides });
  await client.fetchQuery(jobQuery(api, ID));
  return { client, wrapper: dataWrapper(api, client) };
}

const page = (ids: string[], next: string | null = null): JobPage => ({
  items: ids.map((id) => makeJob("completed", { id })),
  next_before: next,
});

describe("cancel", () => {
  it("shows the answer at once when it is newer than the poll, then reads the job again", async () => {
    const cancelJob = vi.fn<Api["cancelJob"]>().mockResolvedValue(makeJob("cancelling", { version: 4 }));
    const { client, wrapper } = await setup({ cancelJob });
    const { result } = renderHook(() => useCancelJob(ID), { wrapper });
    await act(() => result.current.mutateAsync());
    const cached = client.getQueryData<JobSnapshot>(queryKeys.job(ID));
    expect(cached?.job.status).toBe("cancelling");
    // The detail fields that a cancel's answer lacks are kept, and so is the ETag.
    expect(cached?.job.missing_pages).toEqual([]);
    expect(cached?.etag).toBe('"j.3"');
    expect(client.getQueryState(queryKeys.job(ID))?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.jobList)).toBeUndefined();
  });

  it("keeps a poll that is newer than the answer", async () => {
    const cancelJob = vi.fn<Api["cancelJob"]>().mockResolvedValue(makeJob("cancelling", { version: 2 }));
    const { client, wrapper } = await setup({ cancelJob });
    const { result } = renderHook(() => useCancelJob(ID), { wrapper });
    await act(() => result.current.mutateAsync());
    expect(client.getQueryData<JobSnapshot>(queryKeys.job(ID))?.job.status).toBe("running");
  });

  it("gives the API's refusal as an ApiError", async () => {
    const cancelJob = vi.fn<Api["cancelJob"]>().mockRejectedValue(new ApiError("job_finished", "Ended.", 409));
    const { wrapper } = await setup({ cancelJob });
    const { result } = renderHook(() => useCancelJob(ID), { wrapper });
    act(() => result.current.mutate());
    await waitFor(() => expect(result.current.error?.code).toBe("job_finished"));
  });
});

describe("retry", () => {
  it("reads the job again before it resolves, and refreshes the balance and the list", async () => {
    const retryJob = vi.fn<Api["retryJob"]>().mockResolvedValue({ job: makeJob("queued", { run: 1 }), rerun_chunks: 1 });
    const pollJob = vi
      .fn<Api["pollJob"]>()
      .mockResolvedValueOnce(POLLED)
      .mockResolvedValue({ job: makeJob("running", { version: 9 }), etag: '"j.9"' });
    const balance = vi.fn<Api["balance"]>().mockResolvedValueOnce(100).mockResolvedValue(75);
    const { client, wrapper } = await setup({ retryJob, pollJob, balance });
    const header = renderHook(() => useBalance(), { wrapper });
    await waitFor(() => expect(header.result.current).toBe(100));
    const { result } = renderHook(() => useRetryJob(), { wrapper });
    await act(() => result.current.mutateAsync(ID));
    // Nobody watched the job, yet it was read: a progress dialog opening now shows the new run.
    expect(pollJob).toHaveBeenLastCalledWith(ID, '"j.3"');
    expect(client.getQueryData<JobSnapshot>(queryKeys.job(ID))?.job.version).toBe(9);
    await waitFor(() => expect(header.result.current).toBe(75));
  });
});

describe("delete", () => {
  it("takes the job out of the list at once, forgets its details and reads the list again", async () => {
    const deleteJob = vi.fn<Api["deleteJob"]>().mockResolvedValue(undefined);
    // The list read after the delete never answers: what shows is the cache's own update.
    const listJobs = vi
      .fn<Api["listJobs"]>()
      .mockResolvedValueOnce(page(["a", ID, "b"]))
      .mockReturnValue(new Promise(() => undefined));
    const { client, wrapper } = await setup({ deleteJob, listJobs });
    const list = renderHook(() => useJobList(), { wrapper });
    await waitFor(() => expect(list.result.current.jobs?.map((job) => job.id)).toEqual(["a", ID, "b"]));
    const { result } = renderHook(() => useDeleteJob(), { wrapper });
    await act(() => result.current.mutateAsync(ID));
    await waitFor(() => expect(list.result.current.jobs?.map((job) => job.id)).toEqual(["a", "b"]));
    expect(client.getQueryData(queryKeys.job(ID))).toBeUndefined();
    expect(listJobs).toHaveBeenCalledTimes(2);
  });
});

const UPLOAD: Upload = {
  id: "u1",
  filename: "livre.pdf",
  size_bytes: 8,
  page_count: 1,
  encrypted: true,
  extraction_restricted: false,
  pages_without_text: [],
  pages_scanned: [],
  ocr: { pages: 0, credits: 0, estimated_seconds: 0, available: true },
  pages_checked: 1,
  warnings: [],
  chunk_plan: { chunk_pages: 25, overlap: 1, count: 1, chunks: [] },
  estimated_credits: 1,
  balance: 500,
  created_at: "2025-01-01T10:00:00+00:00",
  expires_at: "2025-01-02T10:00:00+00:00",
};

describe("starting a job", () => {
  it("refreshes the balance (credits are reserved) and the job list", async () => {
    const createJob = vi.fn<Api["createJob"]>().mockResolvedValue(makeJob("queued"));
    const { client, wrapper } = await setup({ createJob });
    client.setQueryData(queryKeys.balance, 500);
    client.setQueryData(queryKeys.jobList, { pages: [], pageParams: [] });
    const { result } = renderHook(() => useStartJob(), { wrapper });
    const job = await act(() => result.current.mutateAsync({ uploadId: "u1", settings: { limit: 8 } }));
    expect(job.status).toBe("queued");
    expect(createJob).toHaveBeenCalledWith("u1", { limit: 8 });
    expect(client.getQueryState(queryKeys.balance)?.isInvalidated).toBe(true);
    expect(client.getQueryState(queryKeys.jobList)?.isInvalidated).toBe(true);
  });

  it("uploads without the processors when they cannot be read", async () => {
    const upload = vi.fn<Api["upload"]>().mockResolvedValue(UPLOAD);
    const listProcessors = vi.fn<Api["listProcessors"]>().mockRejectedValue(new ApiError("internal_error", "No.", 500));
    const { wrapper } = await setup({ upload, listProcessors });
    const { result } = renderHook(() => useUpload(), { wrapper });
    const file = new File(["%PDF-1.7"], "livre.pdf", { type: "application/pdf" });
    const answer = await act(() => result.current.mutateAsync({ file, password: "secret" }));
    expect(answer).toEqual({ upload: UPLOAD, processors: null });
    expect(upload).toHaveBeenCalledWith(file, "secret");
  });
});
