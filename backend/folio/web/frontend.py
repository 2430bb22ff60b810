"""The web interface: the frontend's static export (`frontend/out`) served at `/`.

One origin for the pages and the API (no CORS, no Node at run time). The export is served
only for GET and HEAD requests that no route of the API answers, so it can never shadow a
route, turn a 405 into a page, or answer under `/api/`, `/health`, `/ready`, `/metrics` or
`/flower`. docs/frontend.md describes the frontend; `make run` builds the export when needed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from pathlib import Path

from flask import Flask, Response, request, send_file
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

from folio.config import Settings
from folio.web.errors import error_response

# First path segments that belong to the API and the operators' endpoints, never to pages.
RESERVED = frozenset({"api", "health", "ready", "metrics", "flower"})
# Hashed by content: a new build has new names, so these never change.
IMMUTABLE = "public, max-age=31536000, immutable"
# Pages and the rest (the RSC .txt payloads, favicon): revalidated on every use (ETag).
REVALIDATE = "no-cache"
NOT_BUILT = (
    "The web interface is not built. Run `make run` (it builds frontend/out), or "
    "`cd frontend && npm install && npm run build`, or set FOLIO_FRONTEND_DIR to a built export."
)
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.DOTALL)


def register_frontend(app: Flask) -> None:
    """Serve the export in FOLIO_FRONTEND_DIR for page requests that no API route answers."""
    settings: Settings = app.config["FOLIO_SETTINGS"]
    root = settings.frontend_dir

    @app.before_request
    def serve_frontend() -> Response | tuple[Response, int] | None:
        # Runs after routing: only requests that matched no route at all (404) are ours.
        if not isinstance(request.routing_exception, NotFound):
            return None
        if request.method not in ("GET", "HEAD") or _is_reserved(request.path):
            return None
        return page_response(root, request.path)


def _is_reserved(path: str) -> bool:
    """Whether `path` belongs to the API or an operators' endpoint (JSON answers only)."""
    return path.strip("/").split("/", 1)[0] in RESERVED


def _wants_html() -> bool:
    """Whether the client prefers an HTML page to JSON (a browser does; curl and SDKs do not)."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def page_response(root: Path, url_path: str) -> Response | tuple[Response, int] | None:
    """The export's file for `url_path`, its 404 page, a 503 when there is no build, or None
    to let the API answer its JSON 404."""
    if not (root / "index.html").is_file():
        if url_path == "/" or _wants_html():
            return _not_built()
        return None
    found = _find(root, url_path)
    if found is not None:
        return _file_response(root, found)
    if _wants_html() and (root / "404.html").is_file():
        response = _file_response(root, root / "404.html", conditional=False)
        response.status_code = 404
        return response
    return None


def _find(root: Path, url_path: str) -> Path | None:
    """The file that `url_path` names: itself, `<path>.html` or `<path>/index.html`."""
    relative = url_path.strip("/")
    names = [relative, f"{relative}.html", f"{relative}/index.html"] if relative else ["index.html"]
    for name in names:
        joined = safe_join(str(root), name)  # None for `..`, absolute or otherwise unsafe paths
        if joined is not None and Path(joined).is_file():
            return Path(joined)
    return None


def _file_response(root: Path, path: Path, *, conditional: bool = True) -> Response:
    """Send `path` with its cache policy, and the security headers of a page for HTML."""
    response = send_file(path, conditional=conditional, etag=True, max_age=None)
    del response.headers["Content-Disposition"]  # a page or an asset, not a download
    static = path.relative_to(root).parts[:2] == ("_next", "static")
    response.headers["Cache-Control"] = IMMUTABLE if static else REVALIDATE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if path.suffix == ".html":
        stat = path.stat()
        response.headers["Content-Security-Policy"] = content_security_policy(
            str(path), stat.st_mtime_ns, stat.st_size
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
    return response


@functools.lru_cache(maxsize=64)
def content_security_policy(path: str, mtime_ns: int, size: int) -> str:
    """The CSP of one exported page: scripts from this origin plus the page's own inline
    scripts by hash (Next.js inlines its hydration data), no other origin for anything.
    Cached per file version (`mtime_ns`, `size`)."""
    html = Path(path).read_bytes()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in dict.fromkeys(_INLINE_SCRIPT.findall(html))
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _not_built() -> Response | tuple[Response, int]:
    """503: there is no export to serve, and how to make one."""
    if _wants_html():
        body = (
            "<!doctype html><html lang='en'><meta charset='utf-8'><title>Folio</title>"
            f"<h1>Folio: web interface not built</h1><p>{NOT_BUILT}</p>"
            "<p>The API is up: <a href='/api/v1/docs'>/api/v1/docs</a>.</p></html>"
        )
        return Response(body, 503, {"Cache-Control": "no-store"}, mimetype="text/html")
    response, status = error_response("frontend_not_built", NOT_BUILT, 503)
    response.headers["Cache-Control"] = "no-store"
    return response, status
