"""The harness itself: the stack is up, with the frontend's export served at `/`."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.kit import Shots, Stack
from runner import http_status

pytestmark = pytest.mark.e2e


def test_the_stack_serves_the_api_and_the_frontend(stack: Stack, page: Page, shots: Shots) -> None:
    port = int(stack.base.rsplit(":", 1)[1])
    assert http_status(port, "/health") == 200
    assert http_status(port, "/api/v1/openapi.json") == 200
    page.goto("/")
    expect(page.locator("body")).not_to_be_empty()
    shots.take(page, "home")
