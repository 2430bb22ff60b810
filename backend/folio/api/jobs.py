"""`/api/v1/jobs`: start a job from an upload, poll it, cancel, retry, delete, get its results.

Every route answers 404 for another user's job, exactly as for one that does not exist.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, request, send_file, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.http import quote_etag

from folio.api.schemas import MAX_DB_INTEGER, JobDetailSchema, JobSchema
from folio.models import ChunkStatus, Job, JobStatus
from folio.pipeline import export
from folio.pipeline.model import DEFAULT_LANG, OCR_MODES, ProcessSettings
from folio.services import jobs, results
from folio.services.jobs import JobDetail, JobPage
from folio.services.results import SentencePage
from folio.web.auth import current_user, token_required
from folio.web.openapi import BEARER_AUTH, ErrorSchema
from folio.web.ratelimit import limit_job_creation

blueprint = Blueprint("jobs", __name__, description="Jobs: start, poll, cancel, results.")

MAX_PAGE_SIZE = 100
MAX_SENTENCE_PAGE = 500
NOT_FOUND = "job_not_found (also for another user's job)"
# Polling clients revalidate with If-None-Match every time; nothing shared may cache it.
REVALIDATE = "private, no-cache"


class JobSettingsSchema(Schema):
    """What the job does; ranges are checked by the service (400 invalid_settings)."""

    limit = fields.Integer(load_default=8, strict=True, metadata={"description": "Max words."})
    min_words = fields.Integer(load_default=2, strict=True)
    include_headings = fields.Boolean(load_default=False)
    processor = fields.String(load_default="local", validate=validate.Length(min=1, max=32))
    model = fields.String(
        load_default="",
        validate=validate.Length(max=128),
        metadata={"description": "An LLM processor's model (default: the server's)."},
    )
    chunk_pages = fields.Integer(
        load_default=None, strict=True, metadata={"description": "Default FOLIO_CHUNK_PAGES."}
    )
    ocr = fields.String(
        load_default="auto",
        validate=validate.OneOf(OCR_MODES),
        metadata={
            "description": "Which pages OCR reads: auto (those without a usable text layer), "
            "always, never."
        },
    )
    lang = fields.String(
        load_default=DEFAULT_LANG,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "The document's language for OCR, in Tesseract's names: fra, "
            "eng, fra+eng."
        },
    )


class CreateJobSchema(Schema):
    """Start a job on an upload of the caller."""

    upload_id = fields.UUID(required=True)
    settings = fields.Nested(JobSettingsSchema, load_default=lambda: JobSettingsSchema().load({}))


class JobListQuerySchema(Schema):
    """A page of the caller's jobs, newest first."""

    status = fields.List(
        fields.Enum(JobStatus, by_value=True),
        load_default=list,
        metadata={"description": "Only these statuses (repeat the parameter for several)."},
    )
    before = fields.UUID(metadata={"description": "The `next_before` of the previous page."})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class JobPageSchema(Schema):
    """Jobs newest first, and the cursor of the next page (null on the last)."""

    items = fields.List(fields.Nested(JobSchema), required=True)
    next_before = fields.UUID(allow_none=True, required=True)


class RetrySchema(Schema):
    """The job after a retry, and how many chunks run again."""

    job = fields.Nested(JobSchema, required=True)
    rerun_chunks = fields.Integer(required=True)


class ChunkSchema(Schema):
    """One chunk's report; its sentences are not included."""

    index = fields.Integer(required=True)
    owned_first_page = fields.Integer(required=True)
    owned_last_page = fields.Integer(required=True)
    read_first_page = fields.Integer(required=True)
    read_last_page = fields.Integer(required=True)
    status = fields.Enum(ChunkStatus, by_value=True, required=True)
    attempts = fields.Integer(required=True)
    run = fields.Integer(required=True)
    worker = fields.String(allow_none=True)
    seconds = fields.Float(allow_none=True)
    pages_done = fields.Integer(
        required=True, metadata={"description": "Owned pages got through in this attempt."}
    )
    ocr_pages = fields.List(
        fields.Integer(),
        allow_none=True,
        metadata={"description": "Owned pages read by OCR that gave text (done chunks)."},
    )
    ocr_seconds = fields.Float(
        allow_none=True, metadata={"description": "Seconds OCR took, the overlap included."}
    )
    empty_pages = fields.List(
        fields.Integer(),
        allow_none=True,
        metadata={"description": "Owned pages that gave no text: not charged."},
    )
    last_error = fields.String(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class ChunkListSchema(Schema):
    """A job's chunks, in order."""

    items = fields.List(fields.Nested(ChunkSchema), required=True)


class SentenceQuerySchema(Schema):
    """A page of sentences after index `after`, optionally those containing `q`."""

    q = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "Any case."}
    )
    after = fields.Integer(
        validate=validate.Range(min=0, max=MAX_DB_INTEGER),
        metadata={"description": "The previous `next_after`."},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_SENTENCE_PAGE))


class SentenceSchema(Schema):
    """One output sentence."""

    index = fields.Integer(required=True, metadata={"description": "From 1, reading order."})
    text = fields.String(required=True)
    page = fields.Integer(required=True)
    source_id = fields.String(required=True)
    part = fields.Integer(required=True)
    words = fields.Integer(required=True)
    heading = fields.Boolean(required=True)
    split = fields.Boolean(required=True)
    cut = fields.String(
        required=True,
        metadata={
            "description": "How the row was cut from the one before: clause, subject, "
            "relative, llm; empty for a first row."
        },
    )
    source_text = fields.String(
        required=True, metadata={"description": "The author's sentence this row comes from."}
    )
    over_limit = fields.Boolean(
        required=True,
        metadata={"description": "Left longer than the limit: no cut made complete sentences."},
    )
    units = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "For a row over the limit, its sense groups (not sentences)."},
    )


class SentencePageSchema(Schema):
    """Sentences, the cursor of the next page (null on the last), and how many match."""

    items = fields.List(fields.Nested(SentenceSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True)
    total = fields.Integer(required=True)


class DownloadQuerySchema(Schema):
    """The export format (400 invalid_format for another)."""

    format = fields.String(load_default="csv", metadata={"enum": list(export.FORMATS)})


# Every export is a file; the JSON one is also a document whose shape clients may rely on.
BINARY_FILE = {"type": "string", "format": "binary"}
JSON_EXPORT = {
    "type": "object",
    "required": ["meta", "count", "sentences"],
    "properties": {
        "meta": {"type": "object"},
        "count": {"type": "integer"},
        "sentences": {"type": "array", "items": {"type": "object"}},
    },
}


@blueprint.post("")
@token_required()
@limit_job_creation
@blueprint.arguments(CreateJobSchema)
@blueprint.response(202, JobSchema, headers={"Location": {"schema": {"type": "string"}}})
@blueprint.alt_response(400, schema=ErrorSchema, description="invalid_settings")
@blueprint.alt_response(402, schema=ErrorSchema, description="insufficient_credits")
@blueprint.alt_response(404, schema=ErrorSchema, description="upload_not_found")
@blueprint.alt_response(409, schema=ErrorSchema, description="upload_used")
@blueprint.alt_response(410, schema=ErrorSchema, description="upload_expired")
@blueprint.alt_response(
    422, schema=ErrorSchema, description="ocr_unavailable: pages need OCR, which cannot run here"
)
@blueprint.alt_response(429, schema=ErrorSchema, description="rate_limited")
@blueprint.doc(security=BEARER_AUTH)
def create_job(body: dict[str, Any]) -> tuple[Job, int, dict[str, str]]:
    """Start a job on an upload: reserve its estimate and queue its chunks."""
    chosen = body["settings"]
    process = ProcessSettings.from_dict(chosen)
    job = jobs.create_job(current_user().id, body["upload_id"], process, chosen["chunk_pages"])
    return job, 202, {"Location": url_for("jobs.get_job", job_id=job.id)}


@blueprint.get("")
@token_required()
@blueprint.arguments(JobListQuerySchema, location="query")
@blueprint.response(200, JobPageSchema)
@blueprint.alt_response(400, schema=ErrorSchema, description="invalid_cursor")
@blueprint.doc(security=BEARER_AUTH)
def list_jobs(query: dict[str, Any]) -> JobPage:
    """The caller's jobs, newest first, a page at a time."""
    return jobs.list_jobs(current_user().id, query["status"], query.get("before"), query["limit"])


@blueprint.get("/<uuid:job_id>")
@token_required()
@blueprint.response(200, JobDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.alt_response(304, description="Not modified: the If-None-Match ETag is current.")
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.doc(security=BEARER_AUTH)
def get_job(job_id: uuid.UUID) -> Response | tuple[JobDetail, int, dict[str, str]]:
    """Poll a job: state and progress, cheap; send If-None-Match to get 304 when unchanged."""
    user_id = current_user().id
    tag = jobs.etag(job_id, jobs.job_version(user_id, job_id))
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers={"ETag": quote_etag(tag), "Cache-Control": REVALIDATE})
    detail = jobs.job_detail(user_id, job_id)
    # The version read with the job, in case a worker bumped it since the check above.
    tag = jobs.etag(job_id, detail.job.version)
    return detail, 200, {"ETag": quote_etag(tag), "Cache-Control": REVALIDATE}


@blueprint.post("/<uuid:job_id>/cancel")
@token_required()
@blueprint.response(202, JobSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.alt_response(409, schema=ErrorSchema, description="job_finished")
@blueprint.doc(security=BEARER_AUTH)
def cancel_job(job_id: uuid.UUID) -> tuple[Job, int]:
    """Ask the job to stop; it ends `cancelled` and pays only for the chunks that finished."""
    return jobs.cancel_job(current_user().id, job_id), 202


@blueprint.post("/<uuid:job_id>/retry")
@token_required()
@blueprint.response(202, RetrySchema)
@blueprint.alt_response(402, schema=ErrorSchema, description="insufficient_credits")
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.alt_response(409, schema=ErrorSchema, description="job_not_retryable")
@blueprint.alt_response(410, schema=ErrorSchema, description="file_gone: the stored PDF is gone")
@blueprint.doc(security=BEARER_AUTH)
def retry_job(job_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """Run a partial or failed job's failed chunks again (credits for their pages only)."""
    job, sent = jobs.retry_job(current_user().id, job_id)
    return {"job": job, "rerun_chunks": sent}, 202


@blueprint.delete("/<uuid:job_id>")
@token_required()
@blueprint.response(204)
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.alt_response(409, schema=ErrorSchema, description="job_active: cancel it first.")
@blueprint.doc(security=BEARER_AUTH)
def delete_job(job_id: uuid.UUID) -> tuple[str, int]:
    """Delete a finished job: its file, chunks and sentences (the ledger keeps its rows)."""
    jobs.delete_job(current_user().id, job_id)
    return "", 204


@blueprint.get("/<uuid:job_id>/chunks")
@token_required()
@blueprint.response(200, ChunkListSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.doc(security=BEARER_AUTH)
def list_chunks(job_id: uuid.UUID) -> dict[str, Any]:
    """The job's chunks: pages, status, attempts, worker, time, last error."""
    return {"items": results.chunk_report(current_user().id, job_id)}


@blueprint.get("/<uuid:job_id>/sentences")
@token_required()
@blueprint.arguments(SentenceQuerySchema, location="query")
@blueprint.response(200, SentencePageSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.alt_response(409, schema=ErrorSchema, description="job_not_finished")
@blueprint.doc(security=BEARER_AUTH)
def list_sentences(query: dict[str, Any], job_id: uuid.UUID) -> SentencePage:
    """The finished job's sentences in reading order, a page at a time, optionally searched."""
    return results.sentence_page(
        current_user().id,
        job_id,
        query=query.get("q"),
        after=query.get("after"),
        limit=query["limit"],
    )


@blueprint.get("/<uuid:job_id>/download")
@token_required()
@blueprint.arguments(DownloadQuerySchema, location="query")
@blueprint.alt_response(400, schema=ErrorSchema, description="invalid_format")
@blueprint.alt_response(404, schema=ErrorSchema, description=NOT_FOUND)
@blueprint.alt_response(409, schema=ErrorSchema, description="job_not_finished")
@blueprint.doc(
    security=BEARER_AUTH,
    responses={
        "200": {
            "description": "The sentences as a file (Content-Disposition: attachment).",
            "content": {
                media_type.split(";")[0]: {
                    "schema": JSON_EXPORT if media_type == "application/json" else BINARY_FILE
                }
                for media_type in export.MEDIA_TYPES.values()
            },
        }
    },
)
def download(query: dict[str, Any], job_id: uuid.UUID) -> Response:
    """The finished job's sentences as CSV, XLSX, JSON, JSON Lines, text or an Anki file."""
    exported = results.export_job(current_user().id, job_id, query["format"])
    response = send_file(
        io.BytesIO(exported.content),
        mimetype=exported.media_type,
        as_attachment=True,
        download_name=exported.filename,
    )
    # send_file would add a second charset to a type that already names one.
    response.content_type = exported.media_type
    response.headers["Cache-Control"] = "private, no-store"
    return response
