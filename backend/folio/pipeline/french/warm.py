"""Importing this module loads the French parser: for a process pool's forkserver to preload.

The CLI's worker processes fork from a forkserver that imports this first, so they share one
loaded parser instead of each spending about 6 s of a core loading its own.
"""

from __future__ import annotations

from folio.pipeline.french import parser

parser.load()
