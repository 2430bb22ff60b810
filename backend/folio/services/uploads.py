"""Uploads: validate a PDF at once, keep it under a server-made name, until a job takes it.

An upload is checked in two quick steps so that the user sees the plan and the price before
paying: size, magic bytes and trailer here, without decoding anything; then opening,
password, page count and a sample of pages for a text layer in a sandbox bounded by
FOLIO_SANDBOX_MEMORY_MB and FOLIO_INSPECT_SECONDS (docs/adr/0007-bounded-preflight.md). On
any failure nothing is left in the file store and no row is written. An upload that no job
takes expires after FOLIO_UPLOAD_TTL_MINUTES; `delete_expired` (run by the reconciler)
removes it.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select, update

from folio.config import Settings, current_settings
from folio.extensions import db
from folio.models import Upload
from folio.models.base import utcnow
from folio.pipeline.errors import OcrUnavailable
from folio.pipeline.model import (
    DEFAULT_LANG,
    ChunkPlan,
    DocumentInfo,
    ProcessSettings,
    pages_for_ocr,
)
from folio.pipeline.plan import DEFAULT_OVERLAP, plan_chunks
from folio.pipeline.sources.pdf.document import check_structure
from folio.pipeline.sources.pdf.guarded import inspect_document, unlock
from folio.pipeline.sources.pdf.inspect import Limits
from folio.pipeline.sources.pdf.ocr import check_available
from folio.services import credits, storage, users
from folio.services.errors import Conflict, UploadExpired, UploadNotFound


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file as the client sent it: its bytes, and the name it gave (display only)."""

    stream: IO[bytes]
    filename: str | None


@dataclass(frozen=True, slots=True)
class UploadSummary:
    """An upload with what the user needs to decide: the chunk plan, the price, the balance."""

    upload: Upload
    chunk_pages: int
    overlap: int
    chunks: list[ChunkPlan]
    estimated_credits: int
    balance: int
    ocr: OcrEstimate


@dataclass(frozen=True, slots=True)
class OcrEstimate:
    """What OCR adds to a job at the default settings: pages, credits, time, availability."""

    pages: int
    credits: int
    seconds: int
    available: bool


def create_upload(
    user_id: int, incoming: IncomingFile, password: str | None, chunk_pages: int | None = None
) -> UploadSummary:
    """Validate and store a PDF for `user_id`; raises the pipeline's typed error if it is bad."""
    settings = current_settings()
    size_of_chunks = settings.chunk_pages if chunk_pages is None else chunk_pages
    plan_chunks(1, size_of_chunks)  # a bad chunk size is refused before any byte is written
    with storage.incoming_file() as temporary:
        size = storage.save_stream(incoming.stream, temporary)
        check_structure(temporary)  # cheap, in this process: nothing is decoded here
        info = inspect_document(
            temporary, password or None, _limits(settings), settings.budgets, quick=True
        )
        _refuse_scan_without_ocr(info)
        key = _keep(temporary, info, password or None, settings)
    try:
        upload = _add_upload(user_id, key, incoming.filename, size, info, settings)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(key)
        raise
    return summarize(upload, size_of_chunks)


def get_upload(user_id: int, upload_id: uuid.UUID, chunk_pages: int | None = None) -> UploadSummary:
    """The caller's upload with its plan for `chunk_pages` (default FOLIO_CHUNK_PAGES)."""
    upload = find_upload(user_id, upload_id)
    if upload.job_id is None and upload.expires_at <= utcnow():
        raise UploadExpired("This upload has expired; upload the file again.")
    size = current_settings().chunk_pages if chunk_pages is None else chunk_pages
    return summarize(upload, size)


def delete_upload(user_id: int, upload_id: uuid.UUID) -> None:
    """Forget an upload the caller will not use: its row and its file (committed)."""
    upload = find_upload(user_id, upload_id)
    # Conditional: a job created at this very moment keeps the file.
    deleted = db.session.execute(
        delete(Upload)
        .where(Upload.id == upload.id, Upload.job_id.is_(None))
        .returning(Upload.file_key)
    ).scalar_one_or_none()
    db.session.commit()
    if deleted is None:
        raise Conflict("upload_used", "A job uses this upload; delete the job instead.")
    storage.delete(deleted)


def find_upload(user_id: int, upload_id: uuid.UUID) -> Upload:
    """The caller's upload; UploadNotFound when it does not exist or is someone else's."""
    upload = db.session.scalar(
        select(Upload).where(Upload.id == upload_id, Upload.user_id == user_id)
    )
    if upload is None:
        raise UploadNotFound(f"No upload {upload_id}.")
    return upload


def usable_upload(user_id: int, upload_id: uuid.UUID, now: datetime) -> Upload:
    """The caller's upload if a job may still take it: not used, not expired."""
    upload = find_upload(user_id, upload_id)
    if upload.job_id is not None:
        raise Conflict("upload_used", "A job already uses this upload.")
    if upload.expires_at <= now:
        raise UploadExpired("This upload has expired; upload the file again.")
    return upload


def claim(upload_id: uuid.UUID, job_id: uuid.UUID, now: datetime) -> None:
    """Give the upload's file to the job, in the caller's transaction (not committed).

    A conditional UPDATE: of two jobs created from one upload at once, only one gets it.
    """
    claimed = db.session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.job_id.is_(None), Upload.expires_at > now)
        .values(job_id=job_id)
        .returning(Upload.id)
    ).scalar_one_or_none()
    if claimed is None:
        raise Conflict("upload_used", "A job already uses this upload, or it has expired.")


def delete_expired(now: datetime) -> int:
    """Delete the rows and files of uploads that expired unused; return how many."""
    keys = list(
        db.session.execute(
            delete(Upload)
            .where(Upload.job_id.is_(None), Upload.expires_at <= now)
            .returning(Upload.file_key)
        ).scalars()
    )
    db.session.commit()
    # Files go after the rows: a crash in between leaves an orphan file, never a row
    # pointing at nothing.
    for key in keys:
        storage.delete(key)
    ttl = timedelta(minutes=current_settings().upload_ttl_minutes)
    storage.delete_stale_temporary_files(now - ttl)
    return len(keys)


def summarize(upload: Upload, chunk_pages: int) -> UploadSummary:
    """The plan, the estimate at default settings and the owner's balance for an upload."""
    process = ProcessSettings()
    scanned = ocr_pages(upload, process.ocr)
    settings = current_settings()
    return UploadSummary(
        upload=upload,
        chunk_pages=chunk_pages,
        overlap=DEFAULT_OVERLAP,
        chunks=plan(upload, chunk_pages, scanned),
        estimated_credits=credits.estimate(upload.page_count, process, len(scanned)),
        balance=users.get_user(upload.user_id).balance,
        ocr=OcrEstimate(
            pages=len(scanned),
            credits=len(scanned) * settings.ocr_credits_per_page,
            seconds=math.ceil(len(scanned) * 60 / settings.ocr_pages_per_minute),
            available=ocr_available(process.lang),
        ),
    )


def ocr_pages(upload: Upload, mode: str) -> list[int]:
    """The pages of the upload OCR reads in `mode`, from its inspection."""
    info = upload.info
    scanned, complex_ = info.get("pages_scanned", []), info.get("pages_too_complex", [])
    return list(pages_for_ocr(mode, upload.page_count, scanned, complex_))


def plan(upload: Upload, chunk_pages: int, scanned: list[int]) -> list[ChunkPlan]:
    """The chunks of a job on the upload: at most `chunk_pages` pages, fewer OCR pages."""
    size = current_settings().ocr_chunk_pages
    return plan_chunks(upload.page_count, chunk_pages, DEFAULT_OVERLAP, scanned, size)


def ocr_available(lang: str) -> bool:
    """Whether Tesseract can read `lang` on this machine now."""
    try:
        check_available(lang)
    except OcrUnavailable:
        return False
    return True


def _refuse_scan_without_ocr(info: DocumentInfo) -> None:
    """Refuse a scan when OCR cannot run here: without OCR it has no text to read at all.

    A mixed book is kept: its text pages can be read with OCR off, and a job that asks for
    OCR on it is refused when it is created, before any credit is taken.
    """
    unread = set(info.pages_without_text) | set(info.pages_too_complex) | set(info.pages_scanned)
    if info.pages_scanned and len(unread) == info.page_count:
        check_available(DEFAULT_LANG)


def title_of(upload: Upload | None) -> str | None:
    """The document title that inspect found, if any."""
    if upload is None:
        return None
    title = upload.info.get("title")
    return title if isinstance(title, str) else None


def _limits(settings: Settings) -> Limits:
    return Limits(max_pages=settings.max_pages, max_bytes=settings.max_upload_mb * 1024 * 1024)


def _keep(temporary: Path, info: DocumentInfo, password: str | None, settings: Settings) -> str:
    """Store the validated file; an encrypted one as an unlocked copy (no password kept)."""
    if not info.encrypted:
        return storage.keep(temporary)
    key = storage.new_key()
    try:
        # Workers must read the file without the password, which is never stored.
        unlock(temporary, password, storage.path_of(key), settings.budgets)
    except BaseException:
        storage.delete(key)
        raise
    return key


def _add_upload(
    user_id: int,
    key: str,
    filename: str | None,
    size: int,
    info: DocumentInfo,
    settings: Settings,
) -> Upload:
    """Add the upload row (not committed)."""
    now = utcnow()
    upload = Upload(
        user_id=user_id,
        file_key=key,
        original_filename=storage.display_filename(filename),
        size_bytes=size,
        page_count=info.page_count,
        info=_info_json(info),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.upload_ttl_minutes),
    )
    db.session.add(upload)
    return upload


def _info_json(info: DocumentInfo) -> dict[str, Any]:
    return {
        "title": info.title,
        "author": info.author,
        "encrypted": info.encrypted,
        "extraction_restricted": info.extraction_restricted,
        "pages_without_text": list(info.pages_without_text),
        "pages_scanned": list(info.pages_scanned),
        "pages_checked": info.pages_checked,
        "pages_too_complex": list(info.pages_too_complex),
        "warnings": list(info.warnings),
    }
