"""`/api/v1/uploads`: quick validation of a PDF, its plan and price; bad input leaves nothing.

After every refused upload: no credit moved, no file in the store, and the server still
answers.
"""

from __future__ import annotations

import io
import os
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from apiclient import small_pdf
from databases import sqlite_app_from
from factories import auth_headers, make_job, make_upload, make_user
from folio.config import current_settings
from folio.extensions import db
from folio.models import LedgerEntry, Upload, User
from folio.models.base import utcnow
from folio.pipeline.sources.pdf.document import security
from folio.services import storage, uploads

STORED_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\.pdf$")

# The corpus's bad files: (name, status, code) when sent without a password.
BAD = [
    ("empty_0_bytes.pdf", 422, "empty_file"),
    ("not_a_pdf_text.pdf", 415, "not_a_pdf"),
    ("not_a_pdf_png.pdf", 415, "not_a_pdf"),
    ("truncated_half.pdf", 422, "damaged_pdf"),
    ("truncated_tail.pdf", 422, "damaged_pdf"),
    ("zero_pages.pdf", 422, "no_pages"),
    ("encrypted_userpw_secret.pdf", 422, "password_required"),
    ("encrypted_rc4_40_userpw_secret.pdf", 422, "password_required"),
]
ENCRYPTED = ["encrypted_userpw_secret.pdf", "encrypted_rc4_40_userpw_secret.pdf"]


def post_upload(
    client: FlaskClient,
    headers: dict[str, str],
    content: bytes,
    filename: str = "roman.pdf",
    content_type: str = "application/pdf",
    **form: str,
) -> TestResponse:
    """POST /uploads with `content` as the `file` part."""
    data: dict[str, Any] = {"file": (io.BytesIO(content), filename, content_type), **form}
    return client.post("/api/v1/uploads", data=data, headers=headers)


def raw_multipart(disposition: str, content: bytes, part_type: str = "application/pdf") -> bytes:
    """A multipart body whose file part has exactly this Content-Disposition (bytes as given)."""
    return (
        b"--BOUNDARY\r\nContent-Disposition: "
        + disposition.encode("utf-8")
        + f"\r\nContent-Type: {part_type}\r\n\r\n".encode()
        + content
        + b"\r\n--BOUNDARY--\r\n"
    )


def stored_files(app: Flask) -> list[str]:
    """Names in the file store."""
    with app.app_context():
        folder = current_settings().uploads_dir
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def money(app: Flask, user_id: int) -> tuple[int, int]:
    """(balance, ledger rows) of a user."""
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        rows = db.session.scalar(select(func.count()).where(LedgerEntry.user_id == user_id))
        return user.balance, rows or 0


def assert_refused_cleanly(
    app: Flask, client: FlaskClient, response: TestResponse, status: int, code: str, user_id: int
) -> None:
    """The answer, and after it: no upload row, nothing in the store, the server answers."""
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    assert stored_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(Upload.id))) == 0
    assert money(app, user_id) == (50, 1)
    assert client.get("/health").status_code == 200


@pytest.fixture
def account(sqlite_app: Flask) -> tuple[int, dict[str, str]]:
    """A user with 50 credits and its Authorization header."""
    with sqlite_app.app_context():
        user = make_user(granted=50)
        return user.id, auth_headers(user)


def test_an_upload_answers_its_plan_price_and_the_balance(db_app: Flask, tmp_path: Path) -> None:
    with db_app.app_context():
        user = make_user(granted=50)
        user_id, headers = user.id, auth_headers(user)
    content = small_pdf(tmp_path, 7).read_bytes()
    client = db_app.test_client()
    before = utcnow()
    response = post_upload(client, headers, content, "Mon roman.pdf", chunk_pages="3")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/uploads/{body['id']}"
    assert body["filename"] == "Mon roman.pdf"
    assert (body["size_bytes"], body["page_count"]) == (len(content), 7)
    assert body["chunk_plan"] == {
        "chunk_pages": 3,
        "overlap": 1,
        "count": 3,
        "chunks": [
            {"index": 0, "first_page": 1, "last_page": 3},
            {"index": 1, "first_page": 4, "last_page": 6},
            {"index": 2, "first_page": 7, "last_page": 7},
        ],
    }
    assert (body["estimated_credits"], body["balance"]) == (7, 50)
    assert (body["encrypted"], body["warnings"], body["job_id"]) == (False, [], None)
    expires = body["expires_at"]
    with db_app.app_context():
        ttl = timedelta(minutes=current_settings().upload_ttl_minutes)
        upload = db.session.get(Upload, uuid.UUID(body["id"]))
        assert upload is not None and upload.expires_at.isoformat() == expires
        assert before + ttl <= upload.expires_at <= utcnow() + ttl
        stored = current_settings().uploads_dir / upload.file_key
        assert stored.read_bytes() == content
    # The stored name is the server's; nothing else (no temporary file) is left.
    [name] = stored_files(db_app)
    assert STORED_NAME.match(name)
    assert money(db_app, user_id) == (50, 1)
    # The plan for another chunk size, on demand.
    again = client.get(f"/api/v1/uploads/{body['id']}?chunk_pages=5", headers=headers)
    assert again.status_code == 200
    assert [c["last_page"] for c in again.get_json()["chunk_plan"]["chunks"]] == [5, 7]


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "status", "code"), BAD)
def test_bad_corpus_files_are_refused_cleanly(
    sqlite_app: Flask,
    account: tuple[int, dict[str, str]],
    bad_dir: Path,
    name: str,
    status: int,
    code: str,
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    response = post_upload(client, headers, (bad_dir / name).read_bytes(), name)
    assert_refused_cleanly(sqlite_app, client, response, status, code, user_id)


@pytest.mark.corpus
@pytest.mark.parametrize("name", ENCRYPTED)
def test_a_wrong_password_is_refused_cleanly(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], bad_dir: Path, name: str
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    content = (bad_dir / name).read_bytes()
    response = post_upload(client, headers, content, name, password="not-the-password")
    assert_refused_cleanly(sqlite_app, client, response, 422, "wrong_password", user_id)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "password"),
    [*((name, "secret") for name in ENCRYPTED), ("encrypted_ownerpw_only.pdf", "")],
)
def test_encrypted_files_are_stored_unlocked(
    sqlite_app: Flask,
    account: tuple[int, dict[str, str]],
    bad_dir: Path,
    name: str,
    password: str,
) -> None:
    _, headers = account
    client = sqlite_app.test_client()
    form = {"password": password} if password else {}
    response = post_upload(client, headers, (bad_dir / name).read_bytes(), name, **form)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["page_count"], body["encrypted"]) == (445, True)
    [stored] = stored_files(sqlite_app)
    with sqlite_app.app_context():
        path = current_settings().uploads_dir / stored
        # Opens without a password, and has no security handler left: workers need none.
        document = pdfium.PdfDocument(str(path))
        try:
            assert security(document) == (False, False)
        finally:
            document.close()
        row = db.session.scalar(select(Upload))
        assert row is not None and "secret" not in str(row.info)


def test_a_file_over_the_size_limit_is_413(sqlite_template: Path, tmp_path: Path) -> None:
    app = sqlite_app_from(sqlite_template, tmp_path, FOLIO_MAX_UPLOAD_MB="1")
    with app.app_context():
        user = make_user(granted=50)
        user_id, headers = user.id, auth_headers(user)
    client = app.test_client()
    too_big = b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 10)
    response = post_upload(client, headers, too_big)
    assert_refused_cleanly(app, client, response, 413, "file_too_large", user_id)
    # The next upload is served as usual.
    ok = post_upload(client, headers, small_pdf(tmp_path, 2).read_bytes())
    assert ok.status_code == 201, ok.get_json()


def test_a_document_over_the_page_limit_is_413(sqlite_template: Path, tmp_path: Path) -> None:
    app = sqlite_app_from(sqlite_template, tmp_path, FOLIO_MAX_PAGES="3")
    with app.app_context():
        user = make_user(granted=50)
        user_id, headers = user.id, auth_headers(user)
    client = app.test_client()
    response = post_upload(client, headers, small_pdf(tmp_path, 4).read_bytes())
    assert_refused_cleanly(app, client, response, 413, "too_many_pages", user_id)


def test_wrong_content_types_are_415(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    content = small_pdf(tmp_path, 1).read_bytes()
    answers = [
        post_upload(client, headers, content, content_type="text/plain"),
        post_upload(client, headers, content, content_type="image/png"),
        client.post("/api/v1/uploads", json={"file": "JVBERi0="}, headers=headers),
        client.post(
            "/api/v1/uploads", data=content, content_type="application/pdf", headers=headers
        ),
        # Multipart, but no `file` part.
        client.post(
            "/api/v1/uploads", data={"other": (io.BytesIO(content), "x.pdf")}, headers=headers
        ),
    ]
    for response in answers:
        assert_refused_cleanly(sqlite_app, client, response, 415, "unsupported_media_type", user_id)


def test_a_part_without_content_type_is_taken_as_octet_stream(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    _, headers = account
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        + small_pdf(tmp_path, 1).read_bytes()
        + b"\r\n--BOUNDARY--\r\n"
    )
    response = sqlite_app.test_client().post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()


def quoted(name: str) -> str:
    """`name` as a quoted-string, as a compliant client escapes it."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("C:\\Users\\moi\\Mes livres\\roman.pdf", "roman.pdf"),
        ('say "hi".pdf', 'say "hi".pdf'),
        ("bell\x07and\x1bescape.pdf", "bellandescape.pdf"),
        ("tab\there.pdf", "tab here.pdf"),
        ("right\u202etoleft.pdf", "righttoleft.pdf"),
        ("   spaced   out   .pdf  ", "spaced out .pdf"),
        ("..", "document.pdf"),
        ("", "document.pdf"),
        ("/", "document.pdf"),
        ("x" * 1000 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_hostile_filenames_are_shown_sanitised_and_never_used_on_disk(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path, sent: str, shown: str
) -> None:
    _, headers = account
    client = sqlite_app.test_client()
    body = raw_multipart(
        f'form-data; name="file"; filename={quoted(sent)}', small_pdf(tmp_path, 1).read_bytes()
    )
    response = client.post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == shown
    [name] = stored_files(sqlite_app)
    assert STORED_NAME.match(name)
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(
    ("disposition", "shown"),
    [
        # RFC 5987 encoding delivers real newlines and NULs to the server.
        ("form-data; name=\"file\"; filename*=UTF-8''evil%0D%0Aname%00.pdf", "evil name.pdf"),
        ("form-data; name=\"file\"; filename*=UTF-8''..%2F..%2Froot.pdf", "root.pdf"),
        (
            "form-data; name=\"file\"; filename*=UTF-8''L%E2%80%99%C3%89ducation.pdf",
            "L’Éducation.pdf",
        ),
    ],
)
def test_encoded_control_characters_are_removed(
    sqlite_app: Flask,
    account: tuple[int, dict[str, str]],
    tmp_path: Path,
    disposition: str,
    shown: str,
) -> None:
    _, headers = account
    body = raw_multipart(disposition, small_pdf(tmp_path, 1).read_bytes())
    response = sqlite_app.test_client().post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["filename"] == shown


def test_a_raw_newline_in_the_part_header_is_refused_cleanly(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    body = raw_multipart(
        'form-data; name="file"; filename="two\nlines.pdf"', small_pdf(tmp_path, 1).read_bytes()
    )
    response = client.post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    # The part's header ends at the newline, so the server sees no `file` part.
    assert_refused_cleanly(sqlite_app, client, response, 415, "unsupported_media_type", user_id)


def test_a_bad_chunk_size_is_refused_before_writing(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    content = small_pdf(tmp_path, 1).read_bytes()
    response = post_upload(client, headers, content, chunk_pages="0")
    assert_refused_cleanly(sqlite_app, client, response, 400, "invalid_settings", user_id)
    response = post_upload(client, headers, content, chunk_pages="many")
    assert_refused_cleanly(sqlite_app, client, response, 422, "validation_error", user_id)


def test_uploads_need_a_token_and_are_private(db_app: Flask, tmp_path: Path) -> None:
    with db_app.app_context():
        alice, bob = make_user(granted=50), make_user(granted=50)
        alice_headers, bob_headers = auth_headers(alice), auth_headers(bob)
    client = db_app.test_client()
    content = small_pdf(tmp_path, 1).read_bytes()
    assert post_upload(client, {}, content).status_code == 401
    upload_id = post_upload(client, alice_headers, content).get_json()["id"]
    for method in (client.get, client.delete):
        response = method(f"/api/v1/uploads/{upload_id}", headers=bob_headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "upload_not_found"
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=alice_headers).status_code == 200
    assert len(stored_files(db_app)) == 1


def test_deleting_an_upload_removes_its_file(db_app: Flask, tmp_path: Path) -> None:
    with db_app.app_context():
        user = make_user(granted=50)
        headers = auth_headers(user)
    client = db_app.test_client()
    upload_id = post_upload(client, headers, small_pdf(tmp_path, 1).read_bytes()).get_json()["id"]
    assert client.delete(f"/api/v1/uploads/{upload_id}", headers=headers).status_code == 204
    assert stored_files(db_app) == []
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=headers).status_code == 404


def test_delete_expired_removes_only_expired_unused_uploads(db_app: Flask, tmp_path: Path) -> None:
    pdf = small_pdf(tmp_path, 1)
    with db_app.app_context():
        user = make_user(granted=50)
        headers = auth_headers(user)
        fresh = make_upload(user, pdf, page_count=1)
        expired = make_upload(user, pdf, page_count=1, expires_in=timedelta(minutes=-1))
        used = make_upload(user, pdf, page_count=1, expires_in=timedelta(minutes=-1))
        used.job_id = make_job(user).id
        db.session.commit()
        kept, expired_id = {fresh.file_key, used.file_key}, expired.id
        # Temporary files: one left long ago by a process that died mid-upload, one in use.
        folder = current_settings().uploads_dir
        stale = folder / f"{storage.TEMP_PREFIX}dead{storage.TEMP_SUFFIX}"
        busy = folder / f"{storage.TEMP_PREFIX}busy{storage.TEMP_SUFFIX}"
        stale.write_bytes(b"%PDF-")
        busy.write_bytes(b"%PDF-")
        long_ago = (utcnow() - timedelta(days=1)).timestamp()
        os.utime(stale, (long_ago, long_ago))
        assert uploads.delete_expired(utcnow()) == 1
        assert set(db.session.scalars(select(Upload.file_key))) == kept
    assert stored_files(db_app) == sorted({*kept, busy.name})
    response = db_app.test_client().get(f"/api/v1/uploads/{expired_id}", headers=headers)
    assert response.status_code == 404


@pytest.mark.corpus
def test_a_novel_uploads_with_its_title_and_plan(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], corpus_dir: Path
) -> None:
    _, headers = account
    content = (corpus_dir / "pdfs" / "book_flaubert_education.pdf").read_bytes()
    response = post_upload(sqlite_app.test_client(), headers, content, "education.pdf")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["page_count"], body["pages_checked"]) == (445, 445)  # every page, cheaply
    assert (body["title"], body["author"]) == ("L’Éducation sentimentale", "Gustave Flaubert")
    assert body["chunk_plan"]["count"] == 18
    assert body["chunk_plan"]["chunks"][-1] == {"index": 17, "first_page": 426, "last_page": 445}
    assert body["estimated_credits"] == 445


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("a\u2028b.pdf", "a b.pdf"),
        ("e\u0301cole.pdf", "école.pdf"),
        ("....", "document.pdf"),
        (None, "document.pdf"),
        ("y" * 300, "y" * 255),
    ],
)
def test_display_filename(sent: str | None, shown: str) -> None:
    assert storage.display_filename(sent) == shown


@pytest.mark.parametrize(
    "raw_name",
    [
        "Éducation sentimentale.pdf".encode("latin-1"),  # a Latin-1 system's file name
        b"\xff\xfe\x00name.pdf",
    ],
)
def test_a_filename_that_is_not_utf8_is_refused_with_its_own_code(
    sqlite_app: Flask, account: tuple[int, dict[str, str]], tmp_path: Path, raw_name: bytes
) -> None:
    user_id, headers = account
    client = sqlite_app.test_client()
    pdf = small_pdf(tmp_path, 1).read_bytes()
    body = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="'
        + raw_name
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + pdf
        + b"\r\n--BOUNDARY--\r\n"
    )
    response = client.post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    assert_refused_cleanly(sqlite_app, client, response, 400, "filename_not_utf8", user_id)
    assert "filename*=UTF-8''" in response.get_json()["error"]["message"]
    # The same name sent as RFC 5987 asks is taken.
    encoded = "Éducation sentimentale.pdf".encode().hex("%").upper()
    body = raw_multipart(f"form-data; name=\"file\"; filename*=UTF-8''%{encoded}", pdf)
    accepted = client.post(
        "/api/v1/uploads",
        data=body,
        content_type="multipart/form-data; boundary=BOUNDARY",
        headers=headers,
    )
    assert accepted.status_code == 201, accepted.get_json()
    assert accepted.get_json()["filename"] == "Éducation sentimentale.pdf"
