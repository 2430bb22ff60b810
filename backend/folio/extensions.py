"""Flask extension objects, created here unbound and bound to the app by `register_extensions`."""

from __future__ import annotations

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

# Imported for its side effect: it registers the sqlite:/// scheme of the rate-limit counts
# with `limits` (FOLIO_RATELIMIT_STORAGE_URL's default) before the limiter is bound.
import folio.web.ratelimit_storage  # noqa: F401
from folio.config import MIGRATIONS_DIR
from folio.models import Base
from folio.web.openapi import FolioApi

db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(MIGRATIONS_DIR))
jwt = JWTManager()
# Per client IP unless a limit says otherwise; limits are declared on the routes.
limiter = Limiter(key_func=get_remote_address)
api = FolioApi()
