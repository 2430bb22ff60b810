"use client";

import { Dialog } from "./Dialog";

/** What a confirmation asks and the test id of its "yes" button. */
interface ConfirmProps {
  title: string;
  question: string;
  confirmLabel: string;
  cancelLabel: string;
  confirmTestId: string;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A yes/no question in an alert dialog; "no" has the focus, so Enter never destroys. */
export function ConfirmDialog(props: ConfirmProps) {
  return (
    <Dialog title={props.title} onClose={props.onCancel} testId={`${props.confirmTestId}-dialog`} alert>
      <p>{props.question}</p>
      <div className="actions">
        <button type="button" onClick={props.onCancel} data-autofocus>
          {props.cancelLabel}
        </button>
        <button type="button" className="danger" onClick={props.onConfirm} data-testid={props.confirmTestId}>
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
