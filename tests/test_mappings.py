"""Each pair of types has one mapping, and it loses nothing both ways.

ProcessSettings ↔ the job's stored settings, ChunkPlan ↔ JobChunk, OutputSentence ↔ its
JSON form (a chunk's result) and ↔ JobSentence (a finished job's rows). A field added to a
pipeline type and forgotten in a mapping fails here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import fields

import pytest
from flask import Flask
from sqlalchemy import select, update

from apiclient import Account
from folio.extensions import db
from folio.models import ChunkStatus, Job, JobChunk, JobSentence, JobStatus
from folio.models.mapping import chunk_plan, chunk_row, output_sentence, sentence_values
from folio.pipeline.model import ChunkPlan, OutputSentence, ProcessSettings
from folio.services import finalize
from folio.services.jobstate import process_settings

SETTINGS = [
    ProcessSettings(),
    ProcessSettings(limit=12, min_words=3, include_headings=True),
    ProcessSettings(limit=20, min_words=1, processor="gemini", model="gemini-2.5-pro"),
]
# Every field away from its default, so that a field the mapping forgets cannot pass.
SENTENCES = [
    OutputSentence("Il sourit.", "00012:000340", 12),
    OutputSentence(
        "Elle répondit.",
        "00013:000007",
        13,
        part=2,
        words=2,
        heading=True,
        processor="gemini",
        split=True,
        cut="llm",
        repaired=True,
    ),
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_process_settings_round_trip(settings: ProcessSettings) -> None:
    stored = {**settings.to_dict(), "chunk_pages": 25, "overlap": 1, "furniture": ["x"]}
    assert ProcessSettings.from_dict(stored) == settings
    assert set(settings.to_dict()) == {f.name for f in fields(ProcessSettings)}


@pytest.mark.parametrize("settings", SETTINGS)
def test_a_jobs_stored_settings_give_back_its_process_settings(settings: ProcessSettings) -> None:
    job = Job(settings={**settings.to_dict(), "chunk_pages": 25})
    assert process_settings(job) == settings


def test_settings_stored_before_the_processor_existed_read_as_local() -> None:
    job = Job(settings={"limit": 9, "min_words": 2})
    assert process_settings(job) == ProcessSettings(limit=9, min_words=2, processor="local")


@pytest.mark.parametrize("sentence", SENTENCES)
def test_output_sentence_json_round_trip(sentence: OutputSentence) -> None:
    assert OutputSentence.from_dict(sentence.to_dict()) == sentence


def test_chunk_plan_round_trip() -> None:
    plan = ChunkPlan(3, owned_first=76, owned_last=100, read_first=75, read_last=101)
    row = chunk_row(uuid.uuid4(), plan)
    assert row.status == ChunkStatus.PENDING
    assert chunk_plan(row) == plan


def test_output_sentence_round_trips_through_a_stored_row(db_app: Flask) -> None:
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.COMPLETED, [ChunkStatus.DONE])
    with db_app.app_context():
        db.session.add_all(
            JobSentence(**sentence_values(job_id, index, sentence))
            for index, sentence in enumerate(SENTENCES, start=1)
        )
        db.session.commit()
        db.session.expunge_all()
        rows = db.session.scalars(
            select(JobSentence).where(JobSentence.job_id == job_id).order_by(JobSentence.index)
        ).all()
        assert [output_sentence(row) for row in rows] == SENTENCES


def test_a_web_download_says_which_rows_an_llm_failed(db_app: Flask) -> None:
    """Rows the local normalizer repaired after an LLM failure say so in the downloads."""
    alice = Account(db_app, granted=50)
    job_id = alice.job(JobStatus.RUNNING, [ChunkStatus.DONE])
    with db_app.app_context():
        result = [sentence.to_dict() for sentence in SENTENCES]
        db.session.execute(update(JobChunk).where(JobChunk.job_id == job_id).values(result=result))
        db.session.commit()
        assert finalize.finalize_job(job_id) == JobStatus.COMPLETED

    records = alice.get(f"/{job_id}/download?format=json").get_json()["sentences"]
    assert [(r["text"], r["repaired"]) for r in records] == [
        ("Il sourit.", False),
        ("Elle répondit.", True),
    ]
    lines = alice.get(f"/{job_id}/download?format=jsonl").data.decode().splitlines()
    assert [json.loads(line)["repaired"] for line in lines] == [False, True]
