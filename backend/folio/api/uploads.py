"""`/api/v1/uploads`: send a PDF, see its plan and price before starting a job.

The file travels as the `file` part of a multipart/form-data body; its checks (size, type,
magic bytes, password, page count) answer at once, before any credit moves.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, pre_dump, validate
from werkzeug.datastructures import FileStorage

from folio.services import uploads
from folio.services.uploads import IncomingFile, UploadSummary
from folio.web.auth import current_user, token_required
from folio.web.errors import UnsupportedMediaType
from folio.web.openapi import BEARER_AUTH, ErrorSchema

blueprint = Blueprint("uploads", __name__, description="Upload a PDF; see its plan and price.")

# An empty type is a part sent without Content-Type (Python's requests does that), taken as
# application/octet-stream: the magic bytes decide what the file is.
PDF_PART_TYPES = frozenset({"application/pdf", "application/octet-stream", ""})
MAX_PASSWORD_LENGTH = 1024


class UploadFormSchema(Schema):
    """The multipart form: the PDF, its password if it has one, a chunk size for the plan."""

    file = fields.Raw(
        metadata={
            "type": "string",
            "format": "binary",
            "description": "Required. The PDF, as application/pdf or application/octet-stream.",
        }
    )
    password = fields.String(
        load_default=None,
        validate=validate.Length(max=MAX_PASSWORD_LENGTH),
        metadata={"description": "The PDF's user password; used once, never stored."},
    )
    chunk_pages = fields.Integer(
        load_default=None, metadata={"description": "Pages per chunk for the plan shown."}
    )


class PlanQuerySchema(Schema):
    """The chunk size to show the plan for (default FOLIO_CHUNK_PAGES)."""

    chunk_pages = fields.Integer(load_default=None)


class ChunkRangeSchema(Schema):
    """The pages one chunk owns."""

    index = fields.Integer(required=True)
    first_page = fields.Integer(required=True)
    last_page = fields.Integer(required=True)


class ChunkPlanSchema(Schema):
    """How a job on this upload would be cut."""

    chunk_pages = fields.Integer(required=True)
    overlap = fields.Integer(required=True, metadata={"description": "Context pages read."})
    count = fields.Integer(required=True)
    chunks = fields.List(fields.Nested(ChunkRangeSchema), required=True)


class OcrEstimateSchema(Schema):
    """What OCR adds to a job on the upload at the default settings (OCR auto)."""

    pages = fields.Integer(required=True, metadata={"description": "Pages OCR reads."})
    credits = fields.Integer(
        required=True, metadata={"description": "Their OCR price, included in the estimate."}
    )
    estimated_seconds = fields.Integer(
        required=True, metadata={"description": "At FOLIO_OCR_PAGES_PER_MINUTE."}
    )
    available = fields.Boolean(
        required=True, metadata={"description": "Whether this server can run OCR now."}
    )


class UploadSchema(Schema):
    """A validated upload: the document, its plan, what it would cost, what the user has."""

    id = fields.UUID(required=True)
    filename = fields.String(required=True, metadata={"description": "Display only."})
    size_bytes = fields.Integer(required=True)
    page_count = fields.Integer(required=True)
    title = fields.String(allow_none=True)
    author = fields.String(allow_none=True)
    encrypted = fields.Boolean(required=True)
    extraction_restricted = fields.Boolean(required=True)
    pages_without_text = fields.List(
        fields.Integer(), required=True, metadata={"description": "Among the pages checked."}
    )
    pages_scanned = fields.List(
        fields.Integer(), required=True, metadata={"description": "Pages OCR reads (auto)."}
    )
    ocr = fields.Nested(OcrEstimateSchema, required=True)
    pages_checked = fields.Integer(required=True)
    warnings = fields.List(fields.String(), required=True)
    chunk_plan = fields.Nested(ChunkPlanSchema, required=True)
    estimated_credits = fields.Integer(
        required=True, metadata={"description": "At the default settings; the most it costs."}
    )
    balance = fields.Integer(required=True, metadata={"description": "Credits available now."})
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    job_id = fields.UUID(allow_none=True, metadata={"description": "The job that used it."})

    @pre_dump
    def flatten(self, summary: UploadSummary, **kwargs: Any) -> dict[str, Any]:
        """Lay the summary out as the answer shows it."""
        upload, info = summary.upload, summary.upload.info
        return {
            "id": upload.id,
            "filename": upload.original_filename,
            "size_bytes": upload.size_bytes,
            "page_count": upload.page_count,
            **{key: info.get(key) for key in ("title", "author")},
            "encrypted": bool(info.get("encrypted")),
            "extraction_restricted": bool(info.get("extraction_restricted")),
            "pages_without_text": info.get("pages_without_text", []),
            "pages_scanned": info.get("pages_scanned", []),
            "ocr": {
                "pages": summary.ocr.pages,
                "credits": summary.ocr.credits,
                "estimated_seconds": summary.ocr.seconds,
                "available": summary.ocr.available,
            },
            "pages_checked": info.get("pages_checked", 0),
            "warnings": info.get("warnings", []),
            "chunk_plan": {
                "chunk_pages": summary.chunk_pages,
                "overlap": summary.overlap,
                "count": len(summary.chunks),
                "chunks": [
                    {"index": c.index, "first_page": c.owned_first, "last_page": c.owned_last}
                    for c in summary.chunks
                ],
            },
            "estimated_credits": summary.estimated_credits,
            "balance": summary.balance,
            "created_at": upload.created_at,
            "expires_at": upload.expires_at,
            "job_id": upload.job_id,
        }


def _pdf_part() -> FileStorage:
    """The request's `file` part, if the request is multipart and the part may be a PDF."""
    part = request.files.get("file") if request.mimetype == "multipart/form-data" else None
    if part is None:
        raise UnsupportedMediaType("Send the PDF as the `file` part of a multipart/form-data body.")
    if part.mimetype not in PDF_PART_TYPES:
        raise UnsupportedMediaType(
            f"The file is sent as {part.mimetype}; send a PDF as application/pdf.",
            {"content_type": part.mimetype},
        )
    return part


@blueprint.post("")
@token_required()
@blueprint.arguments(UploadFormSchema, location="form", content_type="multipart/form-data")
@blueprint.response(201, UploadSchema)
@blueprint.alt_response(
    400, schema=ErrorSchema, description="invalid_settings: a chunk size below 1."
)
@blueprint.alt_response(413, schema=ErrorSchema, description="file_too_large, too_many_pages")
@blueprint.alt_response(415, schema=ErrorSchema, description="unsupported_media_type, not_a_pdf")
@blueprint.alt_response(
    422,
    schema=ErrorSchema,
    description="empty_file, damaged_pdf, no_pages, password_required, wrong_password, "
    "validation_error, ocr_unavailable (a scan, and OCR cannot run here)",
)
@blueprint.doc(security=BEARER_AUTH)
def create_upload(form: dict[str, Any]) -> tuple[UploadSummary, int, dict[str, str]]:
    """Validate and keep a PDF; answer its plan, its estimated price and the balance."""
    part = _pdf_part()
    summary = uploads.create_upload(
        current_user().id,
        IncomingFile(stream=part.stream, filename=part.filename),
        form["password"],
        form["chunk_pages"],
    )
    location = url_for("uploads.get_upload", upload_id=summary.upload.id)
    return summary, 201, {"Location": location}


@blueprint.get("/<uuid:upload_id>")
@token_required()
@blueprint.arguments(PlanQuerySchema, location="query")
@blueprint.response(200, UploadSchema)
@blueprint.alt_response(404, schema=ErrorSchema, description="upload_not_found")
@blueprint.alt_response(410, schema=ErrorSchema, description="upload_expired")
@blueprint.doc(security=BEARER_AUTH)
def get_upload(query: dict[str, Any], upload_id: uuid.UUID) -> UploadSummary:
    """An upload of the caller, with its plan for `chunk_pages`."""
    return uploads.get_upload(current_user().id, upload_id, query["chunk_pages"])


@blueprint.delete("/<uuid:upload_id>")
@token_required()
@blueprint.response(204)
@blueprint.alt_response(404, schema=ErrorSchema, description="upload_not_found")
@blueprint.alt_response(409, schema=ErrorSchema, description="upload_used: a job has it.")
@blueprint.doc(security=BEARER_AUTH)
def delete_upload(upload_id: uuid.UUID) -> tuple[str, int]:
    """Forget an upload that will not become a job (its file is deleted at once)."""
    uploads.delete_upload(current_user().id, upload_id)
    return "", 204
