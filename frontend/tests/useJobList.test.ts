import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import type { Api } from "@/lib/api/client";
import type { JobPage, JobStatus } from "@/lib/api/types";
import { LIST_REFRESH_MS, useJobList } from "@/lib/queries/jobs";

import { advance, setVisibilitySilently, installFakeClock } from "./clock";
import { dataWrapper, testApi } from "./data";
import { makeJob } from "./fixtures";

const page = (jobs: [string, JobStatus][], next: string | null = null): JobPage => ({
  items: jobs.map(([id, status]) => makeJob(status, { id })),
  next_before: next,
});

function list(listJobs: Api["listJobs"]) {
  return renderHook(() => useJobList(), { wrapper: dataWrapper(testApi({ listJobs })) });
}

installFakeClock();


describe("useJobList", () => {
  it("reads the list again every 5 s while a job runs, and no more once all have ended", async () => {
    const listJobs = vi
      .fn<Api["listJobs"]>()
      .mockResolvedValueOnce(page([["a", "running"], ["b", "completed"]]))
      .mockResolvedValue(page([["a", "completed"], ["b", "completed"]]));
    const { result } = list(listJobs);
    await advance(0);
    expect(result.current.jobs?.map((job) => job.status)).toEqual(["running", "completed"]);
    await advance(LIST_REFRESH_MS - 1);
    expect(listJobs).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(listJobs).toHaveBeenCalledTimes(2);
    expect(result.current.jobs?.map((job) => job.status)).toEqual(["completed", "completed"]);
    await advance(60_000);
    expect(listJobs).toHaveBeenCalledTimes(2);
  });

  it("does not read it while the tab is hidden", async () => {
    const listJobs = vi.fn<Api["listJobs"]>().mockResolvedValue(page([["a", "running"]]));
    list(listJobs);
    await advance(0);
    setVisibilitySilently("hidden");
    await advance(60_000);
    expect(listJobs).toHaveBeenCalledTimes(1);
    setVisibilitySilently("visible");
    await advance(LIST_REFRESH_MS);
    expect(listJobs).toHaveBeenCalledTimes(2);
  });

  it("loads older jobs after the shown ones, with the cursor of the last page", async () => {
    const listJobs = vi
      .fn<Api["listJobs"]>()
      .mockResolvedValueOnce(page([["a", "completed"]], "cursor-1"))
      .mockResolvedValueOnce(page([["b", "failed"]]));
    const { result } = list(listJobs);
    await advance(0);
    expect(result.current.hasMore).toBe(true);
    act(() => result.current.loadMore());
    await advance(0);
    expect(listJobs).toHaveBeenLastCalledWith("cursor-1");
    expect(result.current.jobs?.map((job) => job.id)).toEqual(["a", "b"]);
    expect(result.current.hasMore).toBe(false);
  });

  it("shows the API's error", async () => {
    const listJobs = vi.fn<Api["listJobs"]>().mockRejectedValue(new TypeError("Failed to fetch"));
    const { result } = list(listJobs);
    await advance(0);
    expect(result.current.jobs).toBeNull();
    expect(result.current.error?.code).toBe("network_error");
  });
});
