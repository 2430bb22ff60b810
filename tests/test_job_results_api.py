"""`/api/v1/jobs/{id}/chunks`, `/sentences` and `/download`: a job's results, on rows written
directly (finalize is the workers' side), and the OpenAPI description of these routes.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import update

from apiclient import Account, error_code
from folio.extensions import db
from folio.models import ChunkStatus, JobChunk, JobStatus
from folio.pipeline.export import TABLE_COLUMNS


def test_chunks_report_without_results(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.PARTIAL, [ChunkStatus.DONE, ChunkStatus.FAILED])
    with db_app.app_context():
        db.session.execute(
            update(JobChunk).where(JobChunk.job_id == job_id).values(result=[{"text": "x"}])
        )
        db.session.commit()
    items = alice.get(f"/{job_id}/chunks").get_json()["items"]
    assert [(c["index"], c["status"], c["last_error"]) for c in items] == [
        (0, "done", None),
        (1, "failed", "boom"),
    ]
    assert (items[1]["owned_first_page"], items[1]["read_first_page"]) == (4, 3)
    assert "result" not in items[0]


def test_sentences_page_and_search(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    texts = [f"Phrase numéro {n}." for n in range(1, 8)] + [
        "L’École est fermée.",
        "Une école ouverte.",
        "Cent pour 100% sûr.",
        "Le mot_clé.",
    ]
    job_id = alice.finished(texts)
    first = alice.get(f"/{job_id}/sentences?limit=4").get_json()
    assert [s["text"] for s in first["items"]] == texts[:4]
    assert (first["next_after"], first["total"]) == (4, 11)
    assert first["items"][0]["index"] == 1
    rest = alice.get(f"/{job_id}/sentences?limit=100&after=4").get_json()
    assert [s["index"] for s in rest["items"]] == list(range(5, 12))
    assert rest["next_after"] is None

    def search(q: str) -> list[str]:
        body = alice.get(f"/{job_id}/sentences", query_string={"q": q}).get_json()
        return [s["text"] for s in body["items"]]

    assert search("éCOLE") == ["L’École est fermée.", "Une école ouverte."]
    assert search("100%") == ["Cent pour 100% sûr."]
    assert search("%") == ["Cent pour 100% sûr."]
    assert search("_") == ["Le mot_clé."]
    assert search("introuvable") == []


def test_results_wait_for_the_end(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.RUNNING, [ChunkStatus.RUNNING])
    for path in ("/sentences", "/download?format=csv"):
        response = alice.get(f"/{job_id}{path}")
        assert (response.status_code, error_code(response)) == (409, "job_not_finished")


DOWNLOADS = [
    ("csv", "text/csv; charset=utf-8", "csv"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ("json", "application/json", "json"),
    ("jsonl", "application/x-ndjson", "jsonl"),
    ("txt", "text/plain; charset=utf-8", "txt"),
    ("anki", "text/tab-separated-values; charset=utf-8", "tsv"),
]
TEXTS = ["Frédéric partit.", "=1+1 n’est pas une formule.", "Il sourit.", "Il sourit."]
# A spreadsheet's cells never start a formula: a quote neutralises it (docs/pipeline.md).
IN_A_SPREADSHEET = ["Frédéric partit.", "'=1+1 n’est pas une formule.", "Il sourit.", "Il sourit."]


@pytest.mark.parametrize(("fmt", "media_type", "extension"), DOWNLOADS)
def test_every_download_format(db_app: Flask, fmt: str, media_type: str, extension: str) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.finished(TEXTS, filename="L’Éducation sentimentale.pdf")
    response = alice.get(f"/{job_id}/download?format={fmt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''L%E2%80%99%C3%89ducation%20sentimentale.{extension}" in disposition
    assert parse_export(fmt, response.data) == (
        IN_A_SPREADSHEET if fmt in ("csv", "xlsx") else TEXTS
    )


def parse_export(fmt: str, data: bytes) -> list[str]:
    """The sentences that an export file holds, read as its consumer would."""
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0] == list(TABLE_COLUMNS)
        assert [row[0] for row in rows[1:]] == ["1", "2", "3", "4"]
        return [row[1] for row in rows[1:]]
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(data), read_only=True)["Sentences"]
        return [str(row[1]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    if fmt == "json":
        document = json.loads(data)
        assert document["count"] == 4
        return [s["text"] for s in document["sentences"]]
    if fmt == "jsonl":
        return [json.loads(line)["text"] for line in data.decode().splitlines()]
    if fmt == "txt":
        return data.decode().splitlines()
    lines = data.decode().splitlines()
    assert lines[0] == "#separator:tab"
    notes = [line.split("\t") for line in lines if not line.startswith("#")]
    assert notes[0][1] == "L’Éducation sentimentale, p. 1"
    return [note[0] for note in notes]


def test_an_unknown_format_is_400(sqlite_app: Flask) -> None:
    alice = Account(sqlite_app, granted=50)
    job_id = alice.finished(TEXTS)
    response = alice.get(f"/{job_id}/download?format=docx")
    assert (response.status_code, error_code(response)) == (400, "invalid_format")
    default = alice.get(f"/{job_id}/download")
    assert default.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_the_openapi_document_describes_uploads_and_jobs(sqlite_app: Flask) -> None:
    document = sqlite_app.test_client().get("/api/v1/openapi.json").get_json()
    upload = document["paths"]["/api/v1/uploads"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    form = document["components"]["schemas"]["UploadForm"]["properties"]
    assert form["file"]["format"] == "binary"
    detail = document["components"]["schemas"]["JobDetail"]["properties"]
    assert (
        "missing_pages" in detail
        and "missing_pages" not in document["components"]["schemas"]["Job"]["properties"]
    )
    poll = document["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]
    assert {"200", "304", "404"} <= set(poll)
    download = document["paths"]["/api/v1/jobs/{job_id}/download"]["get"]["responses"]["200"]
    assert "text/csv" in download["content"]
