"""Bearer tokens for reads. Writes need none: a submission is authenticated by its signature."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request

from api.problems import problem

AUDITORS = frozenset({"auditor", "registrar"})


def services():
    return current_app.extensions["amanah"]


def caller() -> tuple[str, str] | None:
    """(organisation id, kind) of the bearer token's holder, or None without a valid token."""
    if "caller" in g:
        return g.caller
    header = request.headers.get("Authorization", "")
    result = None
    if header.startswith("Bearer "):
        holder = services().tokens.lookup(header[7:].strip())
        if holder is not None and holder.expired:
            g.token_expired_at, holder = holder.expires_at, None
        if holder is not None:
            organisation = services().ledger.organisation(holder.organisation)
            if organisation is not None:
                result = (organisation.organisation_id, organisation.kind)
    g.caller = result
    return result


def _unauthorised():
    expired_at = g.get("token_expired_at")
    if expired_at is not None:
        return problem(401, "Unauthorized", f"the bearer token expired at {expired_at}; ask the registrar "
                       "for a new one (amanah token issue)", "token-expired",
                       headers={"WWW-Authenticate": 'Bearer realm="amanah", error="invalid_token", '
                                                    'error_description="the token expired"'})
    return problem(401, "Unauthorized", "a valid bearer token is required: Authorization: Bearer amanah_...",
                   "unauthorized", headers={"WWW-Authenticate": 'Bearer realm="amanah"'})


def _forbidden(detail: str):
    return problem(403, "Forbidden", detail, "forbidden")


def require(*kinds: str, own_company: bool = False) -> Callable:
    """Allow token holders whose organisation kind is in `kinds`; with `own_company`, also the
    company named by the `company` path argument, and no other company."""
    allowed = frozenset(kinds)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            who = caller()
            if who is None:
                return _unauthorised()
            organisation, kind = who
            if kind in allowed:
                return view(*args, **kwargs)
            if own_company and kind == "company" and kwargs.get("company") == organisation:
                return view(*args, **kwargs)
            return _forbidden(f"a {kind} token may not read this")

        return wrapper

    return decorate
