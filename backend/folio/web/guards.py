"""Checks that run before anything else reads a request: the first before-request functions.

- A JSON body nested deeper than MAX_JSON_DEPTH is refused (400 `json_too_deep`): parsing
  one thousands of levels deep raises RecursionError wherever it is read (the rate limit's
  key, the route's parser), and no Folio request nests more than three levels.

And the request class: a multipart part whose header is not UTF-8 (a file name in Latin-1,
sent raw by a script) is refused with 400 `filename_not_utf8`, where werkzeug would drop the
whole form silently (and the upload would answer a misleading 415). Guessing the encoding
could show a wrong name; RFC 5987's `filename*=UTF-8''…` carries any name.
"""

from __future__ import annotations

import json
from typing import IO, Any

from flask import Flask, Request, request
from werkzeug.formparser import FormDataParser

from folio.web.errors import FilenameNotUtf8, JsonTooDeep

MAX_JSON_DEPTH = 32


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply `value` nests lists and dicts (a scalar is 0); counting stops past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:  # a loop, not recursion: the value may be as deep as the parser allowed
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_json_depth() -> None:
    """Refuse a JSON body nested deeper than MAX_JSON_DEPTH; leave any other body alone."""
    if not request.is_json:
        return
    data = request.get_data(cache=True)  # kept: the route reads the same bytes after
    if not data:
        return
    try:
        too_deep = json_depth(json.loads(data)) > MAX_JSON_DEPTH
    except RecursionError:
        too_deep = True  # deeper than the parser goes
    except ValueError:
        return  # not JSON at all: the route's parser answers it in its own words
    if too_deep:
        raise JsonTooDeep(f"The JSON body nests more than {MAX_JSON_DEPTH} levels deep.")


class _FormDataParser(FormDataParser):
    """werkzeug's parser, but a part header that is not UTF-8 is an error of its own."""

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> Any:
        try:
            return super()._parse_multipart(stream, mimetype, content_length, options)
        except UnicodeDecodeError:
            raise FilenameNotUtf8(
                "A part of the form has a header (its file name) that is not UTF-8: rename the "
                "file, or send its name as filename*=UTF-8''… (RFC 5987)."
            ) from None


class FolioRequest(Request):
    """Flask's request with the form parser above."""

    form_data_parser_class = _FormDataParser


def register_request_guards(app: Flask) -> None:
    """Run the guards before every other before-request function (the rate limiter's too)."""
    app.request_class = FolioRequest
    # First in the list whatever registered before: the limiter reads the body for its keys.
    app.before_request_funcs.setdefault(None, []).insert(0, check_json_depth)
