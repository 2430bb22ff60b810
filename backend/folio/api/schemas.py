"""Marshmallow schemas shared by several resources of the API."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from folio.models import Job, JobStatus, Role
from folio.services.jobs import public_settings

# The largest value of an integer column on PostgreSQL: a query parameter compared with one
# (a cursor) is refused above it, not sent to the database to fail there.
MAX_DB_INTEGER = 2**31 - 1


class UserSchema(Schema):
    """An account as its owner sees it."""

    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.Enum(Role, by_value=True, required=True)
    balance = fields.Integer(required=True, metadata={"description": "Credits available now."})


class PageRangeSchema(Schema):
    """Pages `first` to `last`, both included."""

    first = fields.Integer(required=True)
    last = fields.Integer(required=True)


class JobSchema(Schema):
    """A job in compact form: state, progress, credits; never its sentences."""

    id = fields.UUID(required=True)
    status = fields.Enum(JobStatus, by_value=True, required=True)
    filename = fields.String(attribute="original_filename", required=True)
    page_count = fields.Integer(required=True)
    settings = fields.Method(
        "_settings", metadata={"type": "object", "description": "What the job runs with."}
    )
    progress_percent = fields.Integer(required=True)
    current_step = fields.String(allow_none=True)
    total_chunks = fields.Integer(required=True)
    processed_chunks = fields.Integer(required=True)
    failed_chunks = fields.Integer(required=True)
    current_page = fields.Integer(
        allow_none=True, metadata={"description": "Pages got through so far."}
    )
    total_pages = fields.Integer(allow_none=True)
    ocr_pages = fields.Integer(
        attribute="planned_ocr_pages",
        required=True,
        metadata={"description": "Pages planned for OCR."},
    )
    ocr_seconds = fields.Float(
        required=True, metadata={"description": "Seconds OCR took in the done chunks."}
    )
    estimated_credits = fields.Integer(
        required=True, metadata={"description": "The most it costs."}
    )
    reserved_credits = fields.Integer(required=True)
    charged_credits = fields.Integer(allow_none=True, metadata={"description": "Once settled."})
    sentence_count = fields.Integer(allow_none=True, metadata={"description": "Once finished."})
    model = fields.String(allow_none=True, metadata={"description": "The LLM model, if any."})
    prompt_version = fields.String(allow_none=True)
    llm_calls = fields.Integer(required=True)
    tokens_in = fields.Integer(required=True)
    tokens_out = fields.Integer(required=True)
    run = fields.Integer(required=True, metadata={"description": "0, then 1, 2… per retry."})
    version = fields.Integer(required=True, metadata={"description": "Bumped on every change."})
    error_code = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    cancel_requested_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime(required=True)
    status_url = fields.Method("_status_url", metadata={"type": "string"})

    def _settings(self, job: Job) -> dict[str, object]:
        return public_settings(job)

    def _status_url(self, job: Job) -> str:
        return url_for("jobs.get_job", job_id=job.id)


class JobDetailSchema(JobSchema):
    """A job as `GET /jobs/{id}` shows it: the compact form and the pages a partial job lacks."""

    missing_pages = fields.List(
        fields.Nested(PageRangeSchema),
        required=True,
        metadata={"description": "Owned pages of the failed chunks (partial and failed jobs)."},
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """Read `missing_pages` from the JobDetail and every other field from its job."""
        if attr == "missing_pages":
            return obj.missing_pages
        return super().get_attribute(obj.job, attr, default)

    def _settings(self, job: Any) -> dict[str, object]:
        return super()._settings(job.job)

    def _status_url(self, job: Any) -> str:
        return super()._status_url(job.job)
