import { ApiError, humanMessage } from "@/lib/api/errors";

/** An API error as a sentence a person can act on, announced to screen readers. */
export function ErrorMessage({ error }: { error: ApiError }) {
  return (
    <p className="error" role="alert" data-testid="error-message" data-code={error.code}>
      {humanMessage(error)}
    </p>
  );
}
