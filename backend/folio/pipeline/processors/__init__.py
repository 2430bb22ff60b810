"""Processors plug into stage 6; `get_processor` picks one by name.

`local` is built in; the LLM processors (`gemini`, `openai`) need an `LLMConfig`, which
`folio.config.Settings.llm` builds from the environment. The provider modules are imported
on first use: the SDK takes most of a second to import and the CLI never needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

from folio.pipeline.errors import InvalidSettings
from folio.pipeline.model import ProcessSettings
from folio.pipeline.processors.base import Limiter, ProcessContext, Processor, ProcessOutput
from folio.pipeline.processors.llm.config import LLMConfig
from folio.pipeline.processors.local import LocalNormalizer

# name → (module, class) of the LLM processors.
_LLM_PROCESSORS = {
    "gemini": ("folio.pipeline.processors.llm.gemini", "GeminiProcessor"),
    "openai": ("folio.pipeline.processors.llm.openai_compat", "OpenAICompatibleProcessor"),
}
PROCESSOR_NAMES: tuple[str, ...] = (LocalNormalizer.name, *_LLM_PROCESSORS)
DEFAULT_PROCESSOR = LocalNormalizer.name


@dataclass(frozen=True, slots=True)
class ProcessorTraits:
    """What a processor declares about itself (see `Processor`), known without building one."""

    name: str
    calls_model: bool
    page_cost_factor: int


def traits(name: str) -> ProcessorTraits:
    """The declared traits of the processor `name`; an unknown name is a settings error."""
    if name == LocalNormalizer.name:
        return ProcessorTraits(name, LocalNormalizer.calls_model, LocalNormalizer.page_cost_factor)
    if name in _LLM_PROCESSORS:
        # Every LLM processor shares its base's traits; the provider SDK is not imported.
        from folio.pipeline.processors.llm.processor import LLMProcessor

        return ProcessorTraits(name, LLMProcessor.calls_model, LLMProcessor.page_cost_factor)
    known = ", ".join(PROCESSOR_NAMES)
    raise InvalidSettings(f"Unknown processor {name!r}; choose one of: {known}.")


@dataclass(frozen=True, slots=True)
class ProcessorInfo:
    """What the API lists about a processor: whether it can run here, and its models."""

    name: str
    available: bool
    default_model: str
    models: tuple[str, ...]


def get_processor(name: str, llm: LLMConfig | None = None) -> Processor:
    """A processor instance by name; unknown or unconfigured names are a settings error."""
    if name == LocalNormalizer.name:
        return LocalNormalizer()
    traits(name)  # refuses an unknown name
    if llm is None or not llm.enabled:
        raise InvalidSettings(f"The processor {name!r} is not configured on this server.")
    if llm.provider != name:
        raise ValueError(f"a {llm.provider} configuration given for the {name} processor")
    module, cls = _LLM_PROCESSORS[name]
    processor: Processor = getattr(importlib.import_module(module), cls)(llm)
    return processor


def processor_for(settings: ProcessSettings, llm: Mapping[str, LLMConfig]) -> Processor:
    """The processor a job's settings ask for, on the model they name (checked)."""
    config = llm.get(settings.processor)
    if settings.model and settings.processor == LocalNormalizer.name:
        raise InvalidSettings("The local processor has no model to choose.")
    if config is not None:
        config = config.for_model(settings.model)
    return get_processor(settings.processor, config)


def catalog(llm: Mapping[str, LLMConfig]) -> list[ProcessorInfo]:
    """Every processor, in a fixed order, with what a client may choose."""
    infos = [ProcessorInfo(LocalNormalizer.name, True, "", ())]
    for name in _LLM_PROCESSORS:
        config = llm.get(name)
        if config is None:
            infos.append(ProcessorInfo(name, False, "", ()))
        else:
            infos.append(ProcessorInfo(name, config.enabled, config.model, config.allowed_models))
    return infos


__all__ = [
    "DEFAULT_PROCESSOR",
    "PROCESSOR_NAMES",
    "LLMConfig",
    "Limiter",
    "ProcessContext",
    "ProcessOutput",
    "Processor",
    "ProcessorInfo",
    "ProcessorTraits",
    "catalog",
    "get_processor",
    "processor_for",
    "traits",
]
