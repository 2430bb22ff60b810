"""The embedded broker: kombu's filesystem transport, with messages written atomically.

kombu's own `_put` creates the message file under its final name and then writes into it; a
consumer that lists the folder in between moves an empty file and loses the message. Here a
message is written under a name no consumer looks at, then renamed into place, which is
atomic on one filesystem. A message's name also starts with its priority, so a chunk sent
again is taken before those still queued.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic_ns
from typing import Any

from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):  # type: ignore[misc]  # kombu ships no type hints here
    """A filesystem channel whose messages appear whole or not at all."""

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        # Consumers take the files in name order: by priority (0 first, as on Redis), then
        # in the order they were sent.
        priority = min(9, max(0, int(payload.get("properties", {}).get("priority") or 0)))
        name = f"{priority}_{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # consumers only take names ending in ".<queue>.msg"
        with open(partial, "wb") as handle:
            handle.write(dumps(payload).encode("utf-8"))
        os.replace(partial, final)


class Transport(filesystem.Transport):  # type: ignore[misc]
    """`filesystem://` with atomic message files."""

    Channel = Channel
