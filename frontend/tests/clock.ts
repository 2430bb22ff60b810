/** Fake timers and page visibility for the polling tests: `installFakeClock()` in a test file. */
import { defaultScheduler, notifyManager } from "@tanstack/react-query";
import { act, cleanup } from "@testing-library/react";
import { afterEach, beforeEach, vi } from "vitest";

let visibility: DocumentVisibilityState = "visible";

/** Show or hide the page, and tell the listeners as the browser would. */
export function setVisibility(state: DocumentVisibilityState): void {
  visibility = state;
  document.dispatchEvent(new Event("visibilitychange"));
}

/** Hide or show the page without an event (a tab that was hidden before the test looked). */
export function setVisibilitySilently(state: DocumentVisibilityState): void {
  visibility = state;
}

/** Let pending promises settle and timers due within `ms` fire. */
export async function advance(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

/** Fake timers and a visible page around each test of the calling file. */
export function installFakeClock(): void {
  beforeEach(() => {
    // The cache tells React with setTimeout(0), which fake timers make 1 ms: tell it in a
    // microtask instead, so that a poll's answer shows at the instant of the poll.
    notifyManager.setScheduler(queueMicrotask);
    vi.useFakeTimers();
    visibility = "visible";
    vi.spyOn(document, "visibilityState", "get").mockImplementation(() => visibility);
  });

  afterEach(() => {
    cleanup();
    vi.useRealTimers();
    notifyManager.setScheduler(defaultScheduler);
  });
}
