"""Accounts: create, authenticate and look up users; passwords are hashed with argon2id."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from folio.extensions import db
from folio.models import Role, User
from folio.models.base import utcnow
from folio.services import credits
from folio.services.errors import EmailTaken, InvalidCredentials, NotFound

MIN_PASSWORD_LENGTH = 10
# argon2 hashes whatever it is given: a cap keeps a megabyte "password" from costing CPU.
MAX_PASSWORD_LENGTH = 128
INVALID_CREDENTIALS_MESSAGE = "The e-mail address or the password is wrong."

# argon2-cffi's defaults follow RFC 9106's recommended low-memory profile (argon2id).
_hasher = PasswordHasher()


def normalize_email(email: str) -> str:
    """The stored form of an address: trimmed and lower-case, so that uniqueness ignores case."""
    return email.strip().lower()


def password_problems(password: str, email: str) -> list[str]:
    """Why `password` is too weak for the account `email` (an empty list when it is fine)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if normalize_email(email) in password.lower() or len(set(password)) < 4:
        problems.append("Choose a password that is not your e-mail address or a repetition.")
    return problems


def register(email: str, password: str) -> User:
    """Sign up a new user with the signup credits, in one transaction (committed)."""
    user = _add_user(email, password, Role.USER)
    credits.grant_signup(user.id)
    # grant_signup commits, except when FOLIO_SIGNUP_CREDITS=0 leaves nothing to grant.
    db.session.commit()
    return user


def create_user(email: str, password: str, role: Role, initial_credits: int = 0) -> User:
    """Create an account as an admin, granting it `initial_credits` (committed)."""
    user = _add_user(email, password, role)
    if initial_credits:
        credits.admin_grant(user.id, initial_credits, note="Granted at account creation.")
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, whose last login time is updated (committed)."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        # Spend the time a real check takes, so the answer's delay does not reveal which
        # addresses have an account.
        _verify(_dummy_hash(), password)
        raise InvalidCredentials(INVALID_CREDENTIALS_MESSAGE)
    if not _verify(user.password_hash, password):
        raise InvalidCredentials(INVALID_CREDENTIALS_MESSAGE)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def get_user(user_id: int) -> User:
    """The user with this id; NotFound otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user has id {user_id}.")
    return user


def get_user_by_email(email: str) -> User:
    """The user with this e-mail address (any case); NotFound otherwise."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise NotFound(f"No user has the e-mail address {normalize_email(email)}.")
    return user


def _add_user(email: str, password: str, role: Role) -> User:
    """Add an account (not committed); raise EmailTaken when the address is in use."""
    user = User(email=normalize_email(email), password_hash=_hasher.hash(password), role=role)
    try:
        # The unique constraint decides, so two simultaneous sign-ups cannot both succeed.
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError:
        raise EmailTaken("An account already uses this e-mail address.") from None
    return user


def _verify(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash of nothing, to verify against when the e-mail address is unknown."""
    return _hasher.hash("no account has this password")
