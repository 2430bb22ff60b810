"""The one error hierarchy: every expected failure is a `FolioError` with a stable code.

Each layer defines its own subclasses (`pipeline.errors`, `services.errors`, `web.errors`);
the API answers any of them with one handler (`web.errors`), the CLI with exit 2. This
module imports nothing of Folio's, so the framework-free pipeline can build on it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FolioError(Exception):
    """An expected failure: `code` is machine-readable, `message` is for people.

    A subclass declares its `code` and `http_status`; an instance may override both (for a
    failure family whose code depends on the case, such as a 409 conflict).
    """

    code = "error"
    http_status = 400

    def __init__(
        self,
        message: str,
        details: Mapping[str, Any] | None = None,
        *,
        code: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details) if details is not None else None
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
