"""The frontend's TypeScript API types (frontend/lib/api/schema.d.ts) are generated from this
backend's OpenAPI document: the committed file must equal a fresh generation, so the two
cannot drift. After changing the API, `make api-types` regenerates the file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from folio.app import create_app
from folio.config import REPO_ROOT, Settings

FRONTEND = REPO_ROOT / "frontend"
COMMITTED = FRONTEND / "lib" / "api" / "schema.d.ts"


def _generator_or_skip() -> str:
    """The node binary, once the frontend's dependencies are installed (required under CI)."""
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules" / "openapi-typescript").is_dir():
        message = "the frontend's node_modules are not installed (make api-types installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return node


def test_the_committed_api_types_match_the_openapi_document(tmp_path: Path) -> None:
    node = _generator_or_skip()
    app = create_app(Settings.from_env({"FOLIO_ENV": "test", "FOLIO_DATA_DIR": str(tmp_path)}))
    document = app.test_client().get("/api/v1/openapi.json")
    assert document.status_code == 200
    (tmp_path / "openapi.json").write_bytes(document.get_data())
    fresh = tmp_path / "schema.d.ts"
    subprocess.run(
        [node, "scripts/gen-api.mjs", str(tmp_path / "openapi.json"), str(fresh)],
        cwd=FRONTEND,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert fresh.read_text() == COMMITTED.read_text(), (
        "frontend/lib/api/schema.d.ts is stale: run `make api-types` and commit it"
    )
