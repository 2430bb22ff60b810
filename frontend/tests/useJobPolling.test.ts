import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { JobPoll } from "@/lib/api/client";
import { ApiError } from "@/lib/api/errors";
import { pollDelay, useJobPolling } from "@/lib/hooks/useJobPolling";

import { makeJob } from "./fixtures";

let visibility: DocumentVisibilityState = "visible";

function setVisibility(state: DocumentVisibilityState): void {
  visibility = state;
  document.dispatchEvent(new Event("visibilitychange"));
}

const running = (etag: string): JobPoll => ({ job: makeJob("running"), etag });

beforeEach(() => {
  vi.useFakeTimers();
  visibility = "visible";
  vi.spyOn(document, "visibilityState", "get").mockImplementation(() => visibility);
});

afterEach(() => {
  vi.useRealTimers();
});

/** Let pending promises settle and timers due within `ms` fire. */
async function advance(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe("pollDelay", () => {
  it("starts at 1 s and grows to at most 10 s", () => {
    expect(pollDelay(0)).toBe(1_000);
    expect(pollDelay(15_000)).toBe(2_000);
    expect(pollDelay(60_000)).toBe(5_000);
    expect(pollDelay(3_600_000)).toBe(10_000);
  });
});

describe("useJobPolling", () => {
  it("polls at once, then sends the last ETag and keeps the job on 304", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockResolvedValue(null);
    const { result } = renderHook(() => useJobPolling("job-1", poll));
    await advance(0);
    expect(poll).toHaveBeenCalledWith("job-1", null);
    expect(result.current.job?.status).toBe("running");
    await advance(1_000);
    expect(poll).toHaveBeenLastCalledWith("job-1", '"a.1"');
    expect(result.current.job?.status).toBe("running");
  });

  it("backs off as the job runs long", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>().mockResolvedValue(null);
    renderHook(() => useJobPolling("job-1", poll));
    await advance(10_000);
    const inFirstTenSeconds = poll.mock.calls.length;
    expect(inFirstTenSeconds).toBeGreaterThanOrEqual(10);
    await advance(120_000);
    poll.mockClear();
    await advance(60_000);
    expect(poll).toHaveBeenCalledTimes(6);
  });

  it("pauses while the tab is hidden and polls at once when it is shown", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>().mockResolvedValue(null);
    renderHook(() => useJobPolling("job-1", poll));
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
    visibility = "hidden";
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>().mockResolvedValue(null);
    renderHook(() => useJobPolling("job-1", poll));
    await advance(30_000);
    expect(poll).not.toHaveBeenCalled();
  });

  it.each(["completed", "partial", "failed", "cancelled"] as const)("stops at the final status %s", async (status) => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>()
      .mockResolvedValueOnce(running('"a.1"'))
      .mockResolvedValueOnce({ job: makeJob(status), etag: '"a.2"' })
      .mockResolvedValue(running('"a.3"'));
    const { result } = renderHook(() => useJobPolling("job-1", poll));
    await advance(1_000);
    expect(result.current.job?.status).toBe(status);
    await advance(60_000);
    expect(poll).toHaveBeenCalledTimes(2);
    act(() => setVisibility("visible"));
    await advance(1_000);
    expect(poll).toHaveBeenCalledTimes(2);
  });

  it("keeps polling after a network error, and stops when the job is gone", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>()
      .mockRejectedValueOnce(new TypeError("Failed to fetch"))
      .mockRejectedValueOnce(new ApiError("job_not_found", "No job.", 404))
      .mockResolvedValue(null);
    const { result } = renderHook(() => useJobPolling("job-1", poll));
    await advance(0);
    expect(result.current.error?.code).toBe("network_error");
    await advance(1_000);
    expect(result.current.error?.code).toBe("job_not_found");
    await advance(30_000);
    expect(poll).toHaveBeenCalledTimes(2);
  });

  it("restart polls again at once, from a final status too", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>()
      .mockResolvedValueOnce({ job: makeJob("partial"), etag: '"a.1"' })
      .mockResolvedValue(running('"a.2"'));
    const { result } = renderHook(() => useJobPolling("job-1", poll));
    await advance(5_000);
    expect(poll).toHaveBeenCalledTimes(1);
    act(() => result.current.restart());
    await advance(0);
    expect(poll).toHaveBeenCalledTimes(2);
    expect(result.current.job?.status).toBe("running");
  });

  it("stops polling when unmounted or given no job", async () => {
    const poll = vi.fn<(id: string, etag: string | null) => Promise<JobPoll>>().mockResolvedValue(null);
    const { rerender, result } = renderHook(({ id }: { id: string | null }) => useJobPolling(id, poll), {
      initialProps: { id: "job-1" as string | null },
    });
    await advance(0);
    rerender({ id: null });
    poll.mockClear();
    await advance(30_000);
    expect(poll).not.toHaveBeenCalled();
    expect(result.current.job).toBeNull();
  });
});
