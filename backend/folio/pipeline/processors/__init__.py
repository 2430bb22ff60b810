"""Processors plug into stage 6; `get_processor` picks one by name."""

from __future__ import annotations

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.processors.base import Processor
from folio.pipeline.processors.local import LocalNormalizer

_PROCESSORS: dict[str, type[LocalNormalizer]] = {LocalNormalizer.name: LocalNormalizer}


def get_processor(name: str) -> Processor:
    """A processor instance by name; unknown names are a settings error."""
    try:
        return _PROCESSORS[name]()
    except KeyError:
        known = ", ".join(sorted(_PROCESSORS))
        raise InvalidSettings(f"Unknown processor {name!r}; choose one of: {known}.") from None


__all__ = ["Processor", "get_processor"]
