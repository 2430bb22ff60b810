"""Headers on every answer that stop a browser from sniffing a type or framing the page.

Every response gets `X-Content-Type-Options: nosniff` and `X-Frame-Options: DENY` (for old
browsers), and a `Content-Security-Policy` with `frame-ancestors 'none'` when it has none:
`default-src 'none'` as well for anything but HTML (JSON, downloads: nothing in them may
load or run), `frame-ancestors 'none'` alone for HTML such as the API docs page. The web
app's pages keep the fuller policy that `web/frontend.py` gives them (which also says
`frame-ancestors 'none'`).
"""

from __future__ import annotations

from flask import Flask, Response

NOSNIFF = "nosniff"
NO_FRAMES = "DENY"
# For answers that are data, not pages.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
# For HTML that has no policy of its own (the Swagger UI page): no framing, its scripts kept.
PAGE_POLICY = "frame-ancestors 'none'"


def add_security_headers(response: Response) -> Response:
    """Add the headers to `response`, keeping any it already has."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", NOSNIFF)
    headers.setdefault("X-Frame-Options", NO_FRAMES)
    if "Content-Security-Policy" not in headers:
        html = response.mimetype == "text/html"
        headers["Content-Security-Policy"] = PAGE_POLICY if html else DATA_POLICY
    return response


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response the app makes, error answers included."""
    app.after_request(add_security_headers)
