import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeAll, describe, expect, it } from "vitest";

import { PreflightDialog } from "@/components/upload/PreflightDialog";
import type { Upload } from "@/lib/api/types";
import { DEFAULT_PREFERENCES } from "@/lib/settings";

// jsdom has no modal dialogs: open is enough for what these tests read.
beforeAll(() => {
  HTMLDialogElement.prototype.showModal = function showModal(this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function close(this: HTMLDialogElement) {
    this.open = false;
  };
});
afterEach(cleanup);

/** A scanned book's upload: `ocrPages` of its 12 pages need OCR. */
function scannedUpload(ocrPages: number, available = true): Upload {
  const scanned = Array.from({ length: ocrPages }, (_, index) => index + 1);
  return {
    id: "u1",
    filename: "scan.pdf",
    size_bytes: 4_000_000,
    page_count: 12,
    encrypted: false,
    extraction_restricted: false,
    pages_without_text: [...scanned, 12],
    pages_scanned: scanned,
    ocr: { pages: ocrPages, credits: ocrPages * 2, estimated_seconds: ocrPages, available },
    pages_checked: 12,
    warnings: [],
    chunk_plan: { chunk_pages: 25, overlap: 1, count: 2, chunks: [] },
    estimated_credits: 12 + ocrPages * 2,
    balance: 500,
    created_at: "2025-01-01T10:00:00+00:00",
    expires_at: "2025-01-02T10:00:00+00:00",
  };
}

function show(upload: Upload) {
  render(
    <PreflightDialog
      upload={upload}
      preferences={DEFAULT_PREFERENCES}
      busy={false}
      error={null}
      onConfirm={() => undefined}
      onCancel={() => undefined}
    />,
  );
}

describe("the preflight of a scanned book", () => {
  it("shows the pages OCR reads, their time and their price", () => {
    show(scannedUpload(10));
    expect(screen.getByTestId("preflight-ocr").textContent).toBe("10: about 0:10, 20 credits");
    expect(screen.getByTestId("preflight-credits").textContent).toBe("32");
    expect(screen.queryByTestId("preflight-no-ocr")).toBeNull();
    // The blank page is listed; the scanned ones are not called blank.
    expect(screen.getByRole("list", { name: "Warnings" }).textContent).toContain("Blank pages (not charged): 12.");
  });

  it("warns when the server cannot read scans", () => {
    show(scannedUpload(10, false));
    expect(screen.getByTestId("preflight-no-ocr").textContent).toContain("cannot read scanned pages");
  });

  it("says nothing of OCR for a book with a text layer", () => {
    show(scannedUpload(0));
    expect(screen.queryByTestId("preflight-ocr")).toBeNull();
  });
});
