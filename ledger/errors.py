"""One hierarchy for every expected failure. Each error is a subclass of one public base
(Unauthenticated, Forbidden, Invalid, NotFound, Conflict, Busy, Unavailable, Misconfigured), so a
caller can tell what kind of failure it is and the API maps bases, not classes, to a status."""

from __future__ import annotations

import sqlite3


class LedgerError(Exception):
    """Base of every expected, named failure. `code` is stable; `field` names the bad input;
    `index`, when set, is the position of the envelope in its submission that was refused."""

    code = "ledger-error"

    def __init__(self, detail: str, *, field: str | None = None, index: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.index = index

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.detail}"


# ---- the public bases: what kind of failure, whatever the detail ------------------------------

class Unauthenticated(LedgerError):
    """Who is asking cannot be established (bearer tokens are checked, and answered 401, in api/auth.py)."""

    code = "unauthenticated"


class Forbidden(LedgerError):
    """The request's signer is not known, not trusted, or not allowed to do this."""

    code = "forbidden"


class Invalid(LedgerError):
    """The request is malformed or breaks a rule: sending it again unchanged will not help."""

    code = "invalid"


class NotFound(LedgerError):
    """The thing referred to does not exist."""

    code = "not-found"


class Conflict(LedgerError):
    """The request contradicts what is stored already."""

    code = "conflict"


class Busy(LedgerError):
    """Nothing was stored because others held the log or the database; the same request can be
    sent again after `retry_after_s` seconds."""

    code = "busy"
    retry_after_s = 1


class Unavailable(LedgerError):
    """The ledger cannot answer this yet: it has no genesis entry, or its newest checkpoint lacks
    the witnesses' cosignatures a reader asks for."""

    code = "unavailable"


class Misconfigured(LedgerError):
    """The set-up is wrong (a setting, a key file): an operator must fix it."""

    code = "misconfigured"


# ---- the ledger's own errors, each under one base ---------------------------------------------

class InvalidInput(Invalid):
    """The submission is malformed: a missing, unknown or out-of-bounds field."""

    code = "invalid-input"


class CanonicalisationError(InvalidInput):
    """A value cannot be encoded with RFC 8785 within our bounds."""

    code = "not-canonicalisable"


class BadSignature(Forbidden):
    """A signature does not verify; carries the payload that failed, like itsdangerous."""

    code = "bad-signature"

    def __init__(self, detail: str, *, payload: bytes | None = None, **kwargs):
        super().__init__(detail, **kwargs)
        self.payload = payload


class UnknownKey(Forbidden):
    """The key id is not registered to the actor."""

    code = "unknown-key"


class RevokedKey(Forbidden):
    """The key was registered but has been revoked."""

    code = "revoked-key"


class UnknownActor(Forbidden):
    """The actor is not a registered organisation."""

    code = "unknown-actor"


class NotPermitted(Forbidden):
    """The actor's kind may not emit this event type."""

    code = "not-permitted"


class UnknownEventType(InvalidInput):
    """The event type is not one the ledger knows."""

    code = "unknown-event-type"


class IdempotencyConflict(Conflict):
    """The idempotency key was used before for a different submission."""

    code = "idempotency-conflict"


class RuleViolation(Invalid):
    """The submission is well formed and signed, but breaks a domain rule."""

    code = "rule-violation"


class AlreadyExists(Conflict, RuleViolation):
    """The thing the event would create exists already."""

    code = "already-exists"  # a Conflict first (MRO), still a RuleViolation to callers of the domain rules


class LedgerNotInitialised(Unavailable):
    """The ledger has no genesis entry yet: run `amanah init`."""

    code = "not-initialised"


class LedgerAlreadyInitialised(Conflict):
    """Genesis can happen once."""

    code = "already-initialised"


class ProofError(Invalid):
    """A proof was asked for sizes or indexes the log cannot prove."""

    code = "bad-proof-request"


class LogBusy(Busy):
    """Other writers kept appending first; nothing was stored, and the same request can be sent again."""

    code = "log-busy"
    retry_after_s = 1


class StorageBusy(Busy):
    """The database stayed locked by another transaction longer than the lock timeout; nothing
    was stored, and the same request can be sent again."""

    code = "storage-busy"
    retry_after_s = 2


class ConfigurationError(Misconfigured):
    """A setting is missing or invalid."""

    code = "configuration-error"


class KeyFileError(Misconfigured):
    """A private key file cannot be read (wrong passphrase, wrong format, missing)."""

    code = "key-file-error"


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout that expired


def is_lock_timeout(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, is a lock wait that timed out: SQLite's
    "database is locked" or PostgreSQL's lock_timeout, whichever layer wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        if getattr(current, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return True
        current = current.__cause__ or current.__context__
    return False
