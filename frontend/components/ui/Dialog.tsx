"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";

/** What a dialog needs: its title, what closing it means, and a test id. */
interface DialogProps {
  title: string;
  /** Called once when the user closes it: Escape, or a close button of the caller. */
  onClose: () => void;
  testId: string;
  children: ReactNode;
  /** An alert dialog (a confirmation) rather than an ordinary one. */
  alert?: boolean;
}

/**
 * A modal dialog, open while it is rendered: the native <dialog> in the top layer (focus kept
 * inside, the page behind inert), Escape closes it, and focus goes back where it was. The
 * control marked `data-autofocus` gets the focus first (else the first focusable one).
 */
export function Dialog({ title, onClose, testId, children, alert = false }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  }, [onClose]);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // React does not render `autofocus` on the client: focus the marked control ourselves.
    dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (before?.isConnected) before.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className="dialog"
      role={alert ? "alertdialog" : "dialog"}
      aria-modal="true"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(event) => {
        // Escape: the caller decides (and unmounts the dialog).
        event.preventDefault();
        onCloseRef.current();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
