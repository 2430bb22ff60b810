"""`/api/v1/jobs`: create from an upload (credits reserved, chunks planned and sent), list,
poll with ETags, cancel, retry, delete; nobody else's jobs.

No worker runs here: the chord's messages wait in the broker. Jobs in other states are set up
by writing their rows directly (the workers' side is tested in test_fanout.py).
"""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from flask import Flask
from sqlalchemy import select, update

from apiclient import SETTINGS, Account, count, error_code, ledger, small_pdf
from databases import sqlite_app_from
from factories import finish_job
from folio.config import current_settings
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobSentence, JobStatus, LedgerKind, Upload
from folio.models.base import utcnow
from folio.pipeline.model import ProcessSettings
from folio.services import credits, jobs, storage
from folio.services.errors import Conflict, JobNotFound
from folio.services.jobstate import touched

# --- creating a job ------------------------------------------------------------------------


def test_a_job_reserves_its_estimate_and_sends_its_planned_chunks(
    db_app: Flask, tmp_path: Path
) -> None:
    alice = Account(db_app, granted=50)
    upload_id = alice.upload(small_pdf(tmp_path, 7), 7)
    response = alice.create(upload_id, chunk_pages=3)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == body["status_url"] == f"/api/v1/jobs/{body['id']}"
    assert (body["status"], body["total_chunks"], body["estimated_credits"]) == ("queued", 3, 7)
    assert body["reserved_credits"] == 7
    assert "furniture" not in body["settings"] and "ocr_pages" not in body["settings"]
    assert (body["ocr_pages"], body["ocr_seconds"]) == (0, 0)
    assert ledger(db_app, alice.id) == [
        (LedgerKind.ADMIN_GRANT, 50, 0),
        (LedgerKind.RESERVE, -7, 0),
    ]
    with db_app.app_context():
        assert alice.user().balance == 43
        job = db.session.get(Job, uuid.UUID(body["id"]))
        assert job is not None
        assert job.settings == {
            **SETTINGS,
            "model": "",
            "lang": "fra",
            "ocr": "auto",
            "chunk_pages": 3,
            "overlap": 1,
            "furniture": ["#", "le titre"],
            "ocr_pages": [],
        }
        assert (job.page_count, job.total_pages, job.lane) == (7, 7, "chunks-0")
        upload = db.session.get(Upload, upload_id)
        assert upload is not None and upload.job_id == job.id and upload.file_key == job.file_key
        assert (current_settings().uploads_dir / job.file_key).is_file()
        chunks = db.session.scalars(
            select(JobChunk).where(JobChunk.job_id == job.id).order_by(JobChunk.index)
        ).all()
        assert [
            (c.owned_first_page, c.owned_last_page, c.read_first_page, c.read_last_page)
            for c in chunks
        ] == [(1, 3, 1, 4), (4, 6, 3, 7), (7, 7, 6, 7)]
        # Sent by the real dispatch: each chunk knows its message; no worker took it yet.
        assert all(c.status == ChunkStatus.PENDING for c in chunks)
        assert all(c.task_id and c.dispatched_at for c in chunks)
    # The upload is used now.
    again = alice.create(upload_id)
    assert (again.status_code, error_code(again)) == (409, "upload_used")


def test_insufficient_credits_leave_nothing_and_the_upload_reusable(
    db_app: Flask, tmp_path: Path
) -> None:
    alice = Account(db_app, granted=5)
    upload_id = alice.upload(small_pdf(tmp_path, 7), 7)
    with mock.patch("folio.services.dispatch.dispatch_job") as dispatch:
        response = alice.create(upload_id, chunk_pages=3)
        assert response.status_code == 402
        assert response.get_json()["error"]["details"] == {"balance": 5, "needed": 7}
        dispatch.assert_not_called()
    assert (count(db_app, Job), count(db_app, JobChunk)) == (0, 0)
    assert ledger(db_app, alice.id) == [(LedgerKind.ADMIN_GRANT, 5, 0)]
    with db_app.app_context():
        upload = db.session.get(Upload, upload_id)
        assert upload is not None and upload.job_id is None
        assert (current_settings().uploads_dir / upload.file_key).is_file()
        credits.admin_grant(alice.id, 2)
    with mock.patch("folio.services.dispatch.dispatch_job", return_value=3) as dispatch:
        response = alice.create(upload_id, chunk_pages=3)
        assert response.status_code == 202, response.get_json()
        dispatch.assert_called_once_with(uuid.UUID(response.get_json()["id"]))


def test_an_expired_unknown_or_foreign_upload_is_refused(db_app: Flask, tmp_path: Path) -> None:
    alice, bob = Account(db_app, granted=50), Account(db_app, granted=50)
    pdf = small_pdf(tmp_path, 2)
    expired = alice.upload(pdf, 2, expires_in=timedelta(seconds=-1))
    response = alice.create(expired)
    assert (response.status_code, error_code(response)) == (410, "upload_expired")
    response = alice.create(uuid.uuid4())
    assert (response.status_code, error_code(response)) == (404, "upload_not_found")
    response = bob.create(alice.upload(pdf, 2))
    assert (response.status_code, error_code(response)) == (404, "upload_not_found")
    assert count(db_app, Job) == 0
    assert ledger(db_app, alice.id) == [(LedgerKind.ADMIN_GRANT, 50, 0)]


def test_two_jobs_racing_for_one_upload_cannot_both_get_it(db_app: Flask, tmp_path: Path) -> None:
    alice = Account(db_app, granted=50)
    upload_id = alice.upload(small_pdf(tmp_path, 3), 3)
    barrier = threading.Barrier(4)

    def attempt(_: int) -> str:
        # Each thread has its own app context, so its own session and connection.
        with db_app.app_context():
            barrier.wait(timeout=30)
            try:
                jobs.create_job(alice.id, upload_id, ProcessSettings(), None)
            except Conflict as conflict:
                return conflict.code
            return "created"

    with (
        mock.patch("folio.services.dispatch.dispatch_job", return_value=1),
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["created", "upload_used", "upload_used", "upload_used"]
    assert count(db_app, Job) == 1
    assert [kind for kind, _, _ in ledger(db_app, alice.id)] == [
        LedgerKind.ADMIN_GRANT,
        LedgerKind.RESERVE,
    ]


@pytest.mark.parametrize(
    ("settings", "status", "code"),
    [
        ({"limit": 100}, 400, "invalid_settings"),
        ({"limit": 8, "min_words": 5}, 400, "invalid_settings"),
        ({"processor": "gemini"}, 400, "invalid_settings"),
        ({"chunk_pages": 0}, 400, "invalid_settings"),
        ({"limit": "eight"}, 422, "validation_error"),
        ({"colour": "blue"}, 422, "validation_error"),
    ],
)
def test_settings_are_validated(
    sqlite_app: Flask, tmp_path: Path, settings: dict[str, Any], status: int, code: str
) -> None:
    alice = Account(sqlite_app, granted=50)
    upload_id = alice.upload(small_pdf(tmp_path, 2), 2)
    response = alice.create(upload_id, **settings)
    assert (response.status_code, error_code(response)) == (status, code)
    assert count(sqlite_app, Job) == 0
    assert alice.create(upload_id).status_code == 202  # the upload is still usable


def test_a_broker_failure_still_answers_202(sqlite_app: Flask, tmp_path: Path) -> None:
    alice = Account(sqlite_app, granted=50)
    upload_id = alice.upload(small_pdf(tmp_path, 2), 2)
    with mock.patch("folio.services.dispatch.dispatch_job", side_effect=OSError("broker down")):
        response = alice.create(upload_id)
    # Committed with its reservation; the reconciler sends chunks that were never sent.
    assert response.status_code == 202
    with sqlite_app.app_context():
        [chunk] = db.session.scalars(select(JobChunk)).all()
        assert (chunk.status, chunk.dispatched_at) == (ChunkStatus.PENDING, None)


def test_job_creation_is_rate_limited_per_user(sqlite_template: Path, tmp_path: Path) -> None:
    app = sqlite_app_from(
        sqlite_template,
        tmp_path,
        FOLIO_RATELIMIT_ENABLED="true",
        FOLIO_JOB_RATE_LIMIT="2 per minute",
    )
    alice, bob = Account(app, granted=50), Account(app, granted=50)
    pdf = small_pdf(tmp_path, 1)
    with mock.patch("folio.services.dispatch.dispatch_job", return_value=1):
        assert [alice.create(alice.upload(pdf, 1)).status_code for _ in range(2)] == [202, 202]
        refused = alice.create(alice.upload(pdf, 1))
        assert (refused.status_code, error_code(refused)) == (429, "rate_limited")
        assert bob.create(bob.upload(pdf, 1)).status_code == 202


@pytest.mark.corpus
def test_a_novel_becomes_a_job_with_its_running_heads(sqlite_app: Flask, corpus_dir: Path) -> None:
    alice = Account(sqlite_app, granted=500)
    pdf = corpus_dir / "pdfs" / "book_flaubert_education.pdf"
    with pdf.open("rb") as handle:
        upload = alice.client.post(
            "/api/v1/uploads",
            data={"file": (handle, "education.pdf", "application/pdf")},
            headers=alice.headers,
        )
    assert upload.status_code == 201
    with mock.patch("folio.services.dispatch.dispatch_job", return_value=18):
        response = alice.create(upload.get_json()["id"])
    assert response.status_code == 202, response.get_json()
    assert (response.get_json()["total_chunks"], response.get_json()["reserved_credits"]) == (
        18,
        445,
    )
    with sqlite_app.app_context():
        job = db.session.scalar(select(Job))
        assert job is not None
        assert {"gustave flaubert", "l’éducation sentimentale"} <= set(job.settings["furniture"])


# --- isolation -----------------------------------------------------------------------------


def test_another_users_job_is_not_found_everywhere(db_app: Flask) -> None:
    alice, bob = Account(db_app, granted=50), Account(db_app, granted=50)
    job_id = alice.finished(["Une phrase."])
    for method, path in [
        ("get", ""),
        ("get", "/chunks"),
        ("get", "/sentences"),
        ("get", "/download?format=csv"),
        ("post", "/cancel"),
        ("post", "/retry"),
        ("delete", ""),
    ]:
        response = getattr(bob.client, method)(f"/api/v1/jobs/{job_id}{path}", headers=bob.headers)
        assert (response.status_code, error_code(response)) == (404, "job_not_found"), path
    assert bob.get("").get_json()["items"] == []
    assert [item["id"] for item in alice.get("").get_json()["items"]] == [str(job_id)]
    assert alice.get(f"/{job_id}").status_code == 200


def test_job_endpoints_need_a_token(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    assert client.get("/api/v1/jobs").status_code == 401
    assert client.post("/api/v1/jobs", json={}).status_code == 401
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}").status_code == 401


# --- polling -------------------------------------------------------------------------------


def test_polling_with_an_etag(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.RUNNING, [ChunkStatus.RUNNING, ChunkStatus.PENDING])
    first = alice.get(f"/{job_id}")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    unchanged = alice.get(f"/{job_id}", headers={**alice.headers, "If-None-Match": etag})
    assert (unchanged.status_code, unchanged.data, unchanged.headers["ETag"]) == (304, b"", etag)
    weak = alice.get(f"/{job_id}", headers={**alice.headers, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    # A worker reports progress: the version moves, and so does the ETag.
    with db_app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(touched(progress_percent=50)))
        db.session.commit()
    changed = alice.get(f"/{job_id}", headers={**alice.headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["progress_percent"] == 50


def test_a_job_shows_progress_fields_and_missing_pages(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    statuses = [ChunkStatus.DONE, ChunkStatus.FAILED, ChunkStatus.FAILED, ChunkStatus.DONE]
    job_id = alice.job(JobStatus.PARTIAL, [*statuses, ChunkStatus.FAILED])
    body = alice.get(f"/{job_id}").get_json()
    # Adjacent failed chunks (pages 4-6, 7-9) are one range.
    assert body["missing_pages"] == [{"first": 4, "last": 9}, {"first": 13, "last": 15}]
    assert body["status"] == "partial"
    assert {
        "progress_percent",
        "current_step",
        "processed_chunks",
        "failed_chunks",
        "total_chunks",
        "current_page",
        "total_pages",
        "estimated_credits",
        "reserved_credits",
        "charged_credits",
        "created_at",
        "started_at",
        "finished_at",
        "error_code",
        "error_message",
        "sentence_count",
    } <= set(body)
    assert "result" not in json.dumps(body)


def test_the_list_pages_newest_first_and_filters_by_status(db_app: Flask) -> None:
    alice = Account(db_app, granted=500)
    statuses = [JobStatus.COMPLETED, JobStatus.RUNNING, JobStatus.FAILED, JobStatus.QUEUED] * 2
    ids = [alice.job(status) for status in statuses]
    with db_app.app_context():
        start = utcnow()
        for minutes, job_id in enumerate(ids):
            db.session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(created_at=start + timedelta(minutes=minutes))
            )
        db.session.commit()
    newest_first = [str(job_id) for job_id in reversed(ids)]
    seen: list[str] = []
    query = "?limit=3"
    while True:
        page = alice.get(query).get_json()
        seen += [item["id"] for item in page["items"]]
        if page["next_before"] is None:
            break
        query = f"?limit=3&before={page['next_before']}"
    assert seen == newest_first
    page = alice.get("?status=running&status=queued").get_json()
    assert [item["id"] for item in page["items"]] == [
        str(job_id)
        for job_id, status in reversed(list(zip(ids, statuses, strict=True)))
        if status in (JobStatus.RUNNING, JobStatus.QUEUED)
    ]
    assert alice.get("?status=lost").status_code == 422
    assert error_code(alice.get(f"?before={uuid.uuid4()}")) == "invalid_cursor"


# --- cancel, retry, delete -----------------------------------------------------------------


def test_cancel_asks_the_job_to_stop(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.QUEUED, [ChunkStatus.PENDING, ChunkStatus.PENDING])
    before = alice.get(f"/{job_id}").headers["ETag"]
    response = alice.post(f"/{job_id}/cancel")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "cancelling"
    assert response.get_json()["cancel_requested_at"] is not None
    assert alice.get(f"/{job_id}").headers["ETag"] != before
    with db_app.app_context():
        chunks = db.session.scalars(select(JobChunk.status).where(JobChunk.job_id == job_id))
        assert set(chunks) == {ChunkStatus.CANCELLED}
    # Asking again is harmless.
    assert alice.post(f"/{job_id}/cancel").status_code == 202


def test_cancel_of_an_ended_job(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    done = alice.job(JobStatus.COMPLETED)
    response = alice.post(f"/{done}/cancel")
    assert (response.status_code, error_code(response)) == (409, "job_finished")
    cancelled = alice.job(JobStatus.CANCELLED)
    with mock.patch("folio.services.jobs._request_cancel") as request_cancel:
        assert alice.post(f"/{cancelled}/cancel").status_code == 202
        request_cancel.assert_not_called()


def test_retry_reruns_the_failed_chunks_for_their_pages_only(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.PARTIAL, [ChunkStatus.DONE, ChunkStatus.FAILED])
    response = alice.post(f"/{job_id}/retry")
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert (body["rerun_chunks"], body["job"]["status"], body["job"]["run"]) == (1, "queued", 1)
    assert ledger(db_app, alice.id)[-1] == (LedgerKind.RESERVE, -3, 1)
    with db_app.app_context():
        failed = db.session.scalar(
            select(JobChunk).where(JobChunk.job_id == job_id, JobChunk.index == 1)
        )
        assert failed is not None
        assert (failed.status, failed.run) == (ChunkStatus.PENDING, 1)
        assert failed.task_id is not None


def test_retry_refusals(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    for status, chunks in [
        (JobStatus.COMPLETED, [ChunkStatus.DONE]),
        (JobStatus.RUNNING, [ChunkStatus.RUNNING]),
        (JobStatus.CANCELLED, [ChunkStatus.CANCELLED]),
        (JobStatus.PARTIAL, [ChunkStatus.DONE]),
    ]:
        response = alice.post(f"/{alice.job(status, chunks)}/retry")
        assert (response.status_code, error_code(response)) == (409, "job_not_retryable")


def test_retry_of_a_job_whose_file_is_gone_is_410(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.PARTIAL, [ChunkStatus.DONE, ChunkStatus.FAILED])
    with db_app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        storage.path_of(job.file_key).unlink()
    response = alice.post(f"/{job_id}/retry")
    assert (response.status_code, error_code(response)) == (410, "file_gone")
    assert alice.get(f"/{job_id}").get_json()["status"] == "partial"  # nothing was reset
    assert [kind for kind, _, _ in ledger(db_app, alice.id)].count(LedgerKind.RESERVE) == 1


def test_retry_without_credits_is_402_and_leaves_the_job(db_app: Flask) -> None:
    alice = Account(db_app, granted=6)
    job_id = alice.job(JobStatus.PARTIAL, [ChunkStatus.DONE, ChunkStatus.FAILED])
    response = alice.post(f"/{job_id}/retry")
    assert (response.status_code, error_code(response)) == (402, "insufficient_credits")
    body = alice.get(f"/{job_id}").get_json()
    assert (body["status"], body["run"], body["missing_pages"]) == (
        "partial",
        0,
        [{"first": 4, "last": 6}],
    )


def test_delete_removes_the_results_and_keeps_the_ledger(db_app: Flask, tmp_path: Path) -> None:
    alice = Account(db_app, granted=50)
    running = alice.job(JobStatus.RUNNING, [ChunkStatus.RUNNING])
    response = alice.client.delete(f"/api/v1/jobs/{running}", headers=alice.headers)
    assert (response.status_code, error_code(response)) == (409, "job_active")
    # A real job, from an upload, then finished.
    upload_id = alice.upload(small_pdf(tmp_path, 2), 2)
    with mock.patch("folio.services.dispatch.dispatch_job", return_value=1):
        job_id = uuid.UUID(alice.create(upload_id).get_json()["id"])
    with db_app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        stored = current_settings().uploads_dir / job.file_key
        finish_job(job, ["Une phrase.", "Une autre."])
    ledger_before = ledger(db_app, alice.id)
    assert alice.client.delete(f"/api/v1/jobs/{job_id}", headers=alice.headers).status_code == 204
    assert not stored.exists()
    assert ledger(db_app, alice.id) == ledger_before
    with db_app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None and job.deleted_at is not None
        assert "furniture" not in job.settings
        for model in (JobSentence, JobChunk, Upload):
            assert not db.session.scalars(select(model).where(model.job_id == job_id)).all()
    assert alice.get(f"/{job_id}").status_code == 404
    assert str(job_id) not in [item["id"] for item in alice.get("").get_json()["items"]]
    response = alice.client.delete(f"/api/v1/jobs/{job_id}", headers=alice.headers)
    assert response.status_code == 404


def test_two_deletes_racing_the_loser_is_told_not_found(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.COMPLETED)
    barrier = threading.Barrier(2)
    real_get_job = jobs.get_job

    def get_job_then_wait(user_id: int, wanted: uuid.UUID) -> Job:
        # Both requests have found the job before either deletes it.
        job = real_get_job(user_id, wanted)
        barrier.wait(timeout=30)
        return job

    def attempt(_: int) -> str:
        with db_app.app_context():
            try:
                jobs.delete_job(alice.id, job_id)
            except (Conflict, JobNotFound) as refused:
                return refused.code
            return "deleted"

    with (
        mock.patch("folio.services.jobs.get_job", side_effect=get_job_then_wait),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        outcomes = sorted(pool.map(attempt, range(2)))
    assert outcomes == ["deleted", "job_not_found"]
