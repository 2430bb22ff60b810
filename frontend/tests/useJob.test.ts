import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { Api, JobPoll } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { createQueryClient } from "@/lib/queries/client";
import { useBalance } from "@/lib/queries/credits";
import { useJob } from "@/lib/queries/jobs";
import { nextPoll, pollDelay } from "@/lib/queries/polling";

import { advance, setVisibility, setVisibilitySilently, installFakeClock } from "./clock";
import { dataWrapper, testApi } from "./data";
import { makeJob } from "./fixtures";

const running = (etag: string): JobPoll => ({ job: makeJob("running"), etag });

/** `useJob("job-1")` on a fresh cache, with `pollJob` as the API's. */
function watch(pollJob: Api["pollJob"], overrides: Partial<Api> = {}) {
  const client = createQueryClient();
  const wrapper = dataWrapper(testApi({ pollJob, ...overrides }), client);
  return { client, wrapper, ...renderHook(() => useJob("job-1"), { wrapper }) };
}

const pollMock = () => vi.fn<Api["pollJob"]>();

installFakeClock();


describe("pollDelay and nextPoll", () => {
  it("starts at 1 s and grows to at most 10 s", () => {
    expect(pollDelay(0)).toBe(1_000);
    expect(pollDelay(15_000)).toBe(2_000);
    expect(pollDelay(60_000)).toBe(5_000);
    expect(pollDelay(3_600_000)).toBe(10_000);
  });

  it("stops at a final status and after a 401 or 404, not after a network error", () => {
    const snapshot = (status: "running" | "completed") => ({ job: makeJob(status), etag: null });
    expect(nextPoll({ data: snapshot("running"), error: null, status: "success" }, 0, 20_000)).toBe(2_000);
    expect(nextPoll({ data: snapshot("completed"), error: null, status: "success" }, 0, 0)).toBe(false);
    const gone = new ApiError("job_not_found", "No job.", 404);
    expect(nextPoll({ data: snapshot("running"), error: gone, status: "error" }, 0, 0)).toBe(false);
    const signedOut = new ApiError("token_revoked", "Revoked.", 401);
    expect(nextPoll({ data: undefined, error: signedOut, status: "error" }, 0, 0)).toBe(false);
    const offline = new ApiError("network_error", "offline", 0);
    expect(nextPoll({ data: undefined, error: offline, status: "error" }, 0, 0)).toBe(1_000);
  });
});

describe("useJob", () => {
  it("polls at once, then sends the last ETag and keeps the cached job on 304", async () => {
    const poll = pollMock().mockResolvedValueOnce(running('"a.1"')).mockResolvedValue(null);
    const { result } = watch(poll);
    await advance(0);
    expect(poll).toHaveBeenCalledWith("job-1", null);
    const first = result.current.job;
    expect(first?.status).toBe("running");
    await advance(1_000);
    expect(poll).toHaveBeenCalledTimes(2);
    expect(poll).toHaveBeenLastCalledWith("job-1", '"a.1"');
    // Not a copy: a 304 re-renders nothing that reads the job.
    expect(result.current.job).toBe(first);
    await advance(1_000);
    expect(poll).toHaveBeenLastCalledWith("job-1", '"a.1"');
  });

  it("sends the newest ETag after the job changed", async () => {
    const poll = pollMock()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockResolvedValueOnce({ job: makeJob("running", { progress_percent: 60, version: 4 }), etag: '"a.2"' })
      .mockResolvedValue(null);
    const { result } = watch(poll);
    await advance(1_000);
    expect(result.current.job?.progress_percent).toBe(60);
    await advance(1_000);
    expect(poll).toHaveBeenLastCalledWith("job-1", '"a.2"');
  });

  it("backs off as the job runs long", async () => {
    const poll = pollMock().mockResolvedValueOnce(running('"a.1"')).mockResolvedValue(null);
    watch(poll);
    await advance(10_000);
    expect(poll.mock.calls.length).toBeGreaterThanOrEqual(10);
    await advance(120_000);
    poll.mockClear();
    await advance(60_000);
    expect(poll).toHaveBeenCalledTimes(6);
  });

  it("pauses while the tab is hidden and polls at once when it is shown", async () => {
    const poll = pollMock().mockResolvedValueOnce(running('"a.1"')).mockResolvedValue(null);
    watch(poll);
    await advance(0);
    act(() => setVisibility("hidden"));
    poll.mockClear();
    await advance(60_000);
    expect(poll).not.toHaveBeenCalled();
    act(() => setVisibility("visible"));
    await advance(0);
    expect(poll).toHaveBeenCalledTimes(1);
    // A minute after it started, the job is polled every 5 s.
    await advance(4_999);
    expect(poll).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(poll).toHaveBeenCalledTimes(2);
  });

  it("does not start while the tab is hidden", async () => {
    setVisibilitySilently("hidden");
    const poll = pollMock().mockResolvedValue(running('"a.1"'));
    const { result } = watch(poll);
    await advance(30_000);
    expect(poll).not.toHaveBeenCalled();
    expect(result.current.job).toBeNull();
  });

  it.each(["completed", "partial", "failed", "cancelled"] as const)("stops at the final status %s", async (status) => {
    const poll = pollMock()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockResolvedValueOnce({ job: makeJob(status), etag: '"a.2"' })
      .mockResolvedValue(running('"a.3"'));
    const { result } = watch(poll);
    await advance(1_000);
    expect(result.current.job?.status).toBe(status);
    await advance(60_000);
    expect(poll).toHaveBeenCalledTimes(2);
    act(() => setVisibility("visible"));
    await advance(1_000);
    expect(poll).toHaveBeenCalledTimes(2);
  });

  it("maps a failed network to network_error and keeps polling; stops when the job is gone", async () => {
    const poll = pollMock()
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockRejectedValueOnce(new ApiError("job_not_found", "No job.", 404))
      .mockResolvedValue(null);
    const { result } = watch(poll);
    await advance(0);
    expect(result.current.error).toBeInstanceOf(ApiError);
    expect(result.current.error?.code).toBe("network_error");
    await advance(1_000);
    expect(result.current.error?.code).toBe("job_not_found");
    await advance(30_000);
    expect(poll).toHaveBeenCalledTimes(2);
  });

  it("keeps the job shown beside an error, and clears the error on the next answer", async () => {
    const poll = pollMock()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockRejectedValueOnce(new ApiError("service_unavailable", "HTTP 503", 503))
      .mockResolvedValue(null);
    const { result } = watch(poll);
    await advance(1_000);
    expect(result.current.error?.code).toBe("service_unavailable");
    expect(result.current.job?.status).toBe("running");
    await advance(1_000);
    expect(result.current.error).toBeNull();
    expect(result.current.job?.status).toBe("running");
  });

  it("restart starts the backoff again from 1 s", async () => {
    const poll = pollMock().mockResolvedValueOnce(running('"a.1"')).mockResolvedValue(null);
    const { result } = watch(poll);
    await advance(180_000);
    poll.mockClear();
    act(() => result.current.restart());
    await advance(3_000);
    expect(poll).toHaveBeenCalledTimes(3);
  });

  it("shares one cache entry between the components watching a job", async () => {
    const poll = pollMock().mockResolvedValueOnce(running('"a.1"')).mockResolvedValue(null);
    const { wrapper } = watch(poll);
    await advance(0);
    const second = renderHook(() => useJob("job-1"), { wrapper });
    expect(second.result.current.job?.status).toBe("running");
    await advance(0);
    // The second watcher read the job once more, conditionally: nothing new was sent.
    expect(poll).toHaveBeenLastCalledWith("job-1", '"a.1"');
  });

  it("refreshes the balance once the job ends (its settlement gave credits back)", async () => {
    const poll = pollMock()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockResolvedValueOnce({ job: makeJob("completed"), etag: '"a.2"' })
      .mockResolvedValue(null);
    const balance = vi.fn<Api["balance"]>().mockResolvedValueOnce(445).mockResolvedValue(500);
    const { wrapper } = watch(poll, { balance });
    const header = renderHook(() => useBalance(), { wrapper });
    await advance(0);
    expect(header.result.current).toBe(445);
    await advance(1_000);
    expect(balance).toHaveBeenCalledTimes(2);
    expect(header.result.current).toBe(500);
  });

  it("stops polling when unmounted", async () => {
    const poll = pollMock().mockResolvedValue(running('"a.1"'));
    const { unmount } = watch(poll);
    await advance(0);
    unmount();
    poll.mockClear();
    await advance(30_000);
    expect(poll).not.toHaveBeenCalled();
  });
});
