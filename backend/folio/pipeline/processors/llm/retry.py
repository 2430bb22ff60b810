"""When to try a failed LLM request again: full-jitter backoff that honours the server's delay."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def backoff_delay(
    attempt: int,
    base: float,
    cap: float,
    server_delay: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait after failed attempt number `attempt` (from 1); None to give up.

    Full jitter (uniform between 0 and min(cap, base·2^(attempt-1))) spreads the retries of
    many workers hit by the same outage. A delay the server asked for is a floor; one longer
    than `cap` means giving up now rather than holding a worker that long.
    """
    if server_delay is not None and server_delay > cap:
        return None
    ceiling = min(cap, base * 2 ** (attempt - 1))
    jittered = (rng or random).uniform(0, ceiling)
    return max(jittered, server_delay or 0.0)


def retry_after_header(headers: Mapping[str, str]) -> float | None:
    """The delay in `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if any."""
    lowered = {name.lower(): value for name, value in headers.items()}
    milliseconds = _number(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def gemini_retry_delay(details: Any) -> float | None:
    """The `retryDelay` of a Google RPC error's RetryInfo detail ("1.5s"), if any."""
    error = details.get("error", details) if isinstance(details, dict) else None
    entries = error.get("details") if isinstance(error, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(entry.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None
