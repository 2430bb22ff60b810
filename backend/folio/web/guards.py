"""Checks that run before anything else reads a request: the first before-request functions.

- A JSON body nested deeper than MAX_JSON_DEPTH is refused (400 `json_too_deep`): parsing
  one thousands of levels deep raises RecursionError wherever it is read (the rate limit's
  key, the route's parser), and no Folio request nests more than three levels.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request

from folio.web.errors import JsonTooDeep

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


def register_request_guards(app: Flask) -> None:
    """Run the guards before every other before-request function (the rate limiter's too)."""
    # First in the list whatever registered before: the limiter reads the body for its keys.
    app.before_request_funcs.setdefault(None, []).insert(0, check_json_depth)
