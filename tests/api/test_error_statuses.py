"""Every ledger error keeps the HTTP status it had before the errors were grouped under public
bases; internal retry signals stay out of the public hierarchy."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from flask import Flask

import api
import ledger
import projections
from api import problems
from ledger import errors
from ledger.log_store import LogPositionConflict

ROOT = Path(__file__).resolve().parents[2]
# Taken from api/problems.py's per-class list (STATUS_BY_ERROR, most specific first, 400 otherwise)
# before the mapping went by base; (module, class) -> status.
STATUS_BEFORE_THE_BASES = {
    ("ledger.errors", "LedgerError"): 400,
    ("ledger.errors", "AlreadyExists"): 409,
    ("ledger.errors", "BadSignature"): 403,
    ("ledger.errors", "CanonicalisationError"): 400,
    ("ledger.errors", "ConfigurationError"): 500,
    ("ledger.errors", "IdempotencyConflict"): 409,
    ("ledger.errors", "InvalidInput"): 400,
    ("ledger.errors", "KeyFileError"): 500,
    ("ledger.errors", "LedgerAlreadyInitialised"): 409,
    ("ledger.errors", "LedgerNotInitialised"): 503,
    ("ledger.errors", "LogBusy"): 503,
    ("ledger.errors", "NotFound"): 404,
    ("ledger.errors", "NotPermitted"): 403,
    ("ledger.errors", "ProofError"): 400,
    ("ledger.errors", "RevokedKey"): 403,
    ("ledger.errors", "RuleViolation"): 422,
    ("ledger.errors", "StorageBusy"): 503,
    ("ledger.errors", "UnknownActor"): 403,
    ("ledger.errors", "UnknownEventType"): 400,
    ("ledger.errors", "UnknownKey"): 403,
    ("ledger.witness", "InconsistentCheckpoint"): 400,
    ("ledger.witness", "StaleOldSize"): 400,
    ("ledger.witness", "UnknownLog"): 400,
    ("ledger.witness", "UntrustedCheckpoint"): 403,
    ("ledger.witness_policy", "NotWitnessed"): 400,
    ("projections.runner", "ViewsBehind"): 503,
}
PUBLIC_BASES = {errors.Unauthenticated: 401, errors.Forbidden: 403, errors.Invalid: 400, errors.NotFound: 404,
                errors.Conflict: 409, errors.Busy: 503, errors.Unavailable: 503, errors.Misconfigured: 500}


def every_module() -> None:
    for package in (ledger, projections, api):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)


def subclasses(kind: type) -> set[type]:
    found = set(kind.__subclasses__())
    for sub in list(found):
        found |= subclasses(sub)
    return found


def an_instance(kind: type) -> errors.LedgerError:
    """An instance without calling a subclass's own __init__ (some need extra arguments)."""
    error = kind.__new__(kind)
    errors.LedgerError.__init__(error, "detail")
    return error


def test_every_ledger_error_keeps_its_status():
    every_module()
    kinds = subclasses(errors.LedgerError) - (set(PUBLIC_BASES) - {errors.NotFound})  # NotFound was a class before
    seen = {(kind.__module__, kind.__name__): problems.status_of(an_instance(kind)) for kind in kinds}
    seen[("ledger.errors", "LedgerError")] = problems.status_of(errors.LedgerError("detail"))
    assert seen == STATUS_BEFORE_THE_BASES


@pytest.mark.parametrize("kind", sorted(PUBLIC_BASES, key=lambda kind: kind.__name__))
def test_each_public_base_has_its_status_and_every_error_has_one_base(kind):
    assert problems.status_of(errors.LedgerError.__new__(kind)) == PUBLIC_BASES[kind]
    every_module()
    for error in subclasses(errors.LedgerError) - set(PUBLIC_BASES):
        assert any(issubclass(error, base) for base in PUBLIC_BASES), f"{error.__name__} has no public base"


def test_the_answer_is_a_problem_with_the_status_and_retry_after_for_busy():
    app = Flask(__name__)
    with app.test_request_context("/api/v1/submissions"):
        busy = problems.from_ledger_error(errors.StorageBusy("locked"))
        conflict = problems.from_ledger_error(errors.AlreadyExists("there", field="payload.pledge"))
    assert (busy.status_code, busy.headers["Retry-After"], busy.mimetype) == (503, "2", problems.MEDIA_TYPE)
    assert (conflict.status_code, conflict.get_json()["code"]) == (409, "already-exists")
    assert issubclass(errors.AlreadyExists, errors.RuleViolation), "callers catching domain refusals still see it"


def test_the_append_retry_signal_is_not_a_public_error():
    assert not issubclass(LogPositionConflict, errors.LedgerError)


def test_only_the_append_loop_catches_the_retry_signal():
    """No `except` names LogPositionConflict apart from the submission's retry loop and the KEK
    rotation, which turns it into a Conflict; it is never caught as a LedgerError by accident."""
    catchers = []
    for path in sorted((ROOT / "ledger").rglob("*.py")) + sorted((ROOT / "api").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None and \
                    "LogPositionConflict" in ast.unparse(node.type):
                catchers.append(path.relative_to(ROOT).as_posix())
    assert sorted(catchers) == ["ledger/application.py", "ledger/personal.py"]
