"""The embedded broker: messages appear whole, and a lower priority number is served first."""

from __future__ import annotations

from pathlib import Path

from kombu import Connection, Exchange, Queue

from folio.services.dispatch import FIRST_PRIORITY, RESENT_PRIORITY


def embedded_connection(folder: Path) -> Connection:
    """A kombu connection through Folio's filesystem transport in `folder`."""
    for sub in ("queue", "control", "processed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        transport="folio.taskqueue.broker:Transport",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


def test_a_chunk_sent_again_is_taken_before_those_queued_first(tmp_path: Path) -> None:
    queue = Queue("chunks.0", Exchange(""), routing_key="chunks.0")
    with embedded_connection(tmp_path) as connection:
        producer = connection.Producer()
        for index in range(3):
            producer.publish({"chunk": index}, routing_key="chunks.0", priority=FIRST_PRIORITY)
        producer.publish({"chunk": 7}, routing_key="chunks.0", priority=RESENT_PRIORITY)
        producer.publish({"chunk": 3}, routing_key="chunks.0", priority=FIRST_PRIORITY)
        bound = queue(connection.default_channel)
        taken = []
        while (message := bound.get(no_ack=True)) is not None:
            taken.append(message.payload["chunk"])
    assert taken == [7, 0, 1, 2, 3]
    assert not list((tmp_path / "queue").glob("*.part"))
