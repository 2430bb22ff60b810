"""Queue names: one control queue, and the chunk queues ("lanes") that jobs are spread over."""

from __future__ import annotations

CONTROL_QUEUE = "control"


def chunk_queues(lanes: int) -> list[str]:
    """The chunk queues ("lanes"); workers read them in turn, jobs are spread over them."""
    return [f"chunks-{lane}" for lane in range(lanes)]


def probe_queue(node: str) -> str:
    """The queue only worker `node` reads: the health check's probe goes there."""
    return f"probe.{node}"
