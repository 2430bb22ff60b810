/** Checks made on a chosen file before it is sent: a PDF, not empty, not too large. */

/** The largest upload, in MB: the server's default FOLIO_MAX_UPLOAD_MB unless set at build. */
export const MAX_UPLOAD_MB = Number(process.env.NEXT_PUBLIC_FOLIO_MAX_UPLOAD_MB ?? "100");

/** Why `file` cannot be uploaded, or null when it may be sent. */
export async function checkPdf(file: File, maxMb: number = MAX_UPLOAD_MB): Promise<string | null> {
  const named = file.name.toLowerCase().endsWith(".pdf");
  if (!named && file.type !== "application/pdf") return `“${file.name}” is not a PDF. Choose a .pdf file.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  if (file.size > maxMb * 1024 * 1024) {
    return `“${file.name}” is ${(file.size / (1024 * 1024)).toFixed(1)} MB; the largest upload is ${maxMb} MB.`;
  }
  const head = new Uint8Array(await file.slice(0, 5).arrayBuffer());
  if (String.fromCharCode(...head) !== "%PDF-") return `“${file.name}” does not look like a PDF file.`;
  return null;
}
