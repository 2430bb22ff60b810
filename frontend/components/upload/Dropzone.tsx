"use client";

import { useId, useState, type DragEvent } from "react";

import { MAX_UPLOAD_MB } from "@/lib/pdf";

/** A drop area with a file picker for one PDF. */
export function Dropzone({ onFile, disabled }: { onFile: (file: File) => void; disabled: boolean }) {
  const id = useId();
  const [over, setOver] = useState(false);

  function drop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (file && !disabled) onFile(file);
  }

  return (
    <div
      className={`dropzone${over ? " over" : ""}`}
      data-testid="upload-dropzone"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <p className="dropzone-title">Drop a PDF here</p>
      <p className="muted">or</p>
      <input
        id={id}
        className="visually-hidden-input"
        type="file"
        accept="application/pdf,.pdf"
        disabled={disabled}
        data-testid="upload-input"
        aria-describedby={`${id}-hint`}
        onChange={(event) => {
          const file = event.target.files?.[0];
          // Cleared so that choosing the same file again is seen as a change.
          event.target.value = "";
          if (file) onFile(file);
        }}
      />
      <label htmlFor={id} className="button primary">
        Choose a PDF…
      </label>
      <p id={`${id}-hint`} className="hint">
        A French novel in PDF, up to {MAX_UPLOAD_MB} MB.
      </p>
    </div>
  );
}
