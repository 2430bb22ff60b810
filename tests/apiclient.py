"""A signed-in user of a test app, and small helpers, for the API tests of uploads and jobs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from factories import auth_headers, finish_job, make_chunks, make_job, make_upload, make_user
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobStatus, LedgerEntry, LedgerKind, User
from folio.services import credits, storage
from pdfmaker import book_pages, make_pdf

LINE = "Le navire partit enfin, et les deux berges filèrent comme deux rubans."
SETTINGS = {"limit": 8, "min_words": 2, "include_headings": False, "processor": "local"}


def small_pdf(folder: Path, pages: int, name: str | None = None) -> Path:
    """A book-like PDF of `pages` pages, with a running header and page numbers."""
    paragraphs = [[[LINE, f"Fin de la page {n}."]] for n in range(1, pages + 1)]
    return make_pdf(folder / (name or f"book{pages}.pdf"), book_pages(paragraphs))


class Account:
    """A user of the app with their header, to set up rows and call the API."""

    def __init__(self, app: Flask, granted: int) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        with app.app_context():
            user = make_user(granted=granted)
            self.id, self.headers = user.id, auth_headers(user)

    def user(self) -> User:
        """The user row (inside an app context)."""
        user = db.session.get(User, self.id)
        assert user is not None
        return user

    def upload(self, pdf: Path, pages: int, **extra: Any) -> uuid.UUID:
        """A committed upload of `pdf`."""
        with self.app.app_context():
            return make_upload(self.user(), pdf, page_count=pages, **extra).id

    def create(self, upload_id: uuid.UUID, **settings: Any) -> Any:
        """POST /jobs; the response."""
        body = {"upload_id": str(upload_id), "settings": {**SETTINGS, **settings}}
        return self.client.post("/api/v1/jobs", json=body, headers=self.headers)

    def job(self, status: JobStatus, chunks: list[ChunkStatus] | None = None) -> uuid.UUID:
        """A job of this user with `status` and chunks, its credits reserved (run 0)."""
        with self.app.app_context():
            job = make_job(self.user(), page_count=3 * len(chunks or [1]))
            job.settings = {**SETTINGS, "chunk_pages": 3, "overlap": 1, "furniture": []}
            credits.reserve(self.id, job.id, job.estimated_credits)
            if chunks:
                make_chunks(job, chunks)
            job.status = status
            db.session.commit()
            # Its stored file (a stand-in: nothing reads it here), which a retry needs.
            stored = storage.path_of(job.file_key)
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(b"%PDF-1.4\n")
            return job.id

    def finished(self, texts: list[str], filename: str = "roman.pdf") -> uuid.UUID:
        """A completed job whose sentences are `texts`."""
        job_id = self.job(JobStatus.COMPLETED, [ChunkStatus.DONE])
        with self.app.app_context():
            job = db.session.get(Job, job_id)
            assert job is not None
            job.original_filename = filename
            finish_job(job, texts)
        return job_id

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """GET a path under /api/v1/jobs."""
        return self.client.get(f"/api/v1/jobs{path}", headers=headers or self.headers, **kwargs)

    def post(self, path: str) -> Any:
        """POST to a path under /api/v1/jobs."""
        return self.client.post(f"/api/v1/jobs{path}", headers=self.headers)


def error_code(response: Any) -> str:
    """The code of a JSON error answer."""
    return str(response.get_json()["error"]["code"])


def ledger(app: Flask, user_id: int) -> list[tuple[LedgerKind, int, int]]:
    """(kind, delta, run) of the user's ledger rows, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.id)
        )
        return [(row.kind, row.delta, row.run) for row in rows]


def count(app: Flask, model: Any) -> int:
    """Rows in a table."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0
