# Type stubs for the part of flask-smorest that Folio uses: the package ships no types.
# The decorators change the view's signature (arguments are injected, return values are
# serialised), so they are typed as taking and returning any view.

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import flask
import marshmallow
from apispec import APISpec
from werkzeug.exceptions import HTTPException

_View = Callable[..., Any]
_F = TypeVar("_F", bound=Callable[..., Any])
_SchemaArg = type[marshmallow.Schema] | marshmallow.Schema

class Blueprint(flask.Blueprint):
    def __init__(
        self,
        name: str,
        import_name: str,
        *args: Any,
        description: str | None = ...,
        **kwargs: Any,
    ) -> None: ...
    def route(
        self,
        rule: str,
        *,
        parameters: list[Any] | None = ...,
        tags: list[str] | None = ...,
        **options: Any,
    ) -> Callable[[_F], _F]: ...
    def arguments(
        self,
        schema: _SchemaArg,
        *,
        location: str = ...,
        content_type: str | None = ...,
        required: bool = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        **kwargs: Any,
    ) -> Callable[[_View], _View]: ...
    def response(
        self,
        status_code: int,
        schema: _SchemaArg | None = ...,
        *,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
    ) -> Callable[[_View], _View]: ...
    def alt_response(
        self,
        status_code: int,
        response: str | None = ...,
        *,
        schema: _SchemaArg | None = ...,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
        success: bool = ...,
    ) -> Callable[[_View], _View]: ...
    @staticmethod
    def doc(**kwargs: Any) -> Callable[[_View], _View]: ...

class Api:
    ERROR_SCHEMA: type[marshmallow.Schema]
    spec: APISpec
    def __init__(
        self,
        app: flask.Flask | None = ...,
        *,
        spec_kwargs: Mapping[str, Any] | None = ...,
        config_prefix: str = ...,
    ) -> None: ...
    def init_app(self, app: flask.Flask, *, spec_kwargs: Mapping[str, Any] | None = ...) -> None: ...
    def register_blueprint(
        self, blp: Blueprint, *, parameters: list[Any] | None = ..., **options: Any
    ) -> None: ...
    def handle_http_exception(self, error: HTTPException) -> Any: ...
    def _register_error_handlers(self) -> None: ...
