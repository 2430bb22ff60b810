"""Property-based tests of the HTTP API from its own OpenAPI document (schemathesis).

Every operation of GET /api/v1/openapi.json gets generated requests, valid and invalid, sent
in-process through WSGI with a registered user's bearer token; ids of a real upload and a
finished job are also tried on the read-only routes, so that their 200 answers are checked
too. Each answer must not be a server error, must use a documented status, and must match its
documented schema.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from apiclient import Account, small_pdf

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Per operation, generation mode and set of ids: small, so the whole test stays well under 60 s.
MAX_EXAMPLES = 20
MIN_CASES = 600
# Logging out revokes the token every other case uses: it runs last.
LAST = "POST /api/v1/auth/logout"


def test_the_api_keeps_to_its_openapi_document(sqlite_app: Flask, tmp_path: Path) -> None:
    # A bug answers 500 as in production (counted) instead of raising into the test.
    sqlite_app.config["PROPAGATE_EXCEPTIONS"] = False
    account = Account(sqlite_app, granted=1000)
    known = {
        "job_id": str(account.finished(["Une phrase courte.", "Et une autre encore."])),
        "upload_id": str(account.upload(small_pdf(tmp_path, 3), 3)),
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", sqlite_app)
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    operations = sorted(
        (result.ok() for result in results if isinstance(result, Ok)),
        key=lambda operation: operation.label == LAST,
    )
    cases: Counter[str] = Counter()
    failures: dict[str, list[str]] = {}
    started = time.monotonic()
    for operation in operations:
        path_parameters = {name for name in known if "{" + name + "}" in operation.path}
        variants: list[dict[str, Any]] = [{}]
        if path_parameters and operation.method.upper() == "GET":
            variants.append({"path_parameters": {name: known[name] for name in path_parameters}})
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            for variant in variants:
                run_operation(operation, mode, variant, account.headers, cases, failures)
    took = time.monotonic() - started

    total = sum(cases.values())
    server_errors = failures.pop("ServerError", [])
    schema_violations = failures.pop("JsonSchemaError", [])
    print(
        f"\nschemathesis: {total} generated cases, {len(operations)} operations, {took:.1f} s;"
        f" {len(server_errors)} server errors, {len(schema_violations)} schema violations,"
        f" {sum(map(len, failures.values()))} other failures"
    )
    assert len(operations) >= 19
    assert total >= MIN_CASES
    assert not server_errors, server_errors[:5]
    assert not schema_violations, schema_violations[:5]
    assert not failures, {kind: found[:3] for kind, found in failures.items()}


def run_operation(
    operation: Any,
    mode: schemathesis.GenerationMode,
    variant: dict[str, Any],
    headers: dict[str, str],
    cases: Counter[str],
    failures: dict[str, list[str]],
) -> None:
    """Generate up to MAX_EXAMPLES cases of `operation`, call each and record failed checks."""

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, **variant))
    def run(case: Any) -> None:
        cases[operation.label] += 1
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as error:
            found = error.exceptions if isinstance(error, FailureGroup) else (error,)
            for failure in found:
                summary = f"{operation.label} -> {response.status_code}: {failure.title}"
                failures.setdefault(type(failure).__name__, []).append(summary)

    run()


# --- what it found, pinned down ------------------------------------------------------------


def test_a_body_that_is_not_json_is_a_validation_error(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().post(
        "/api/v1/auth/register", data=b"\x00", content_type="application/json"
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"json": ["Invalid JSON body."]}


def test_cursors_beyond_a_database_integer_are_refused(sqlite_app: Flask) -> None:
    account = Account(sqlite_app, granted=10)
    job_id = account.finished(["Une phrase."])
    client, huge = sqlite_app.test_client(), 2**63
    for path in (
        f"/api/v1/credits/ledger?before={huge}",
        f"/api/v1/jobs/{job_id}/sentences?after={huge}",
    ):
        response = client.get(path, headers=account.headers)
        assert response.status_code == 422, path
        assert response.get_json()["error"]["code"] == "validation_error"
