"""Bearer tokens for reads. Writes need none: a submission is authenticated by its signature.
A missing or bad token raises an Unauthenticated error (401 with a WWW-Authenticate challenge), a
token without the right a Forbidden one (403); api/problems.py renders both as problem+json."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request

from ledger.errors import Forbidden, Unauthenticated

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


class TokenRequired(Unauthenticated):
    """No bearer token, or one that is malformed, unknown, revoked or held by an organisation that
    is not registered."""

    code = "unauthorized"
    title = "Unauthorized"
    challenge = 'Bearer realm="amanah"'


class TokenExpired(Unauthenticated):
    """The bearer token expired (the detail names the moment)."""

    code = "token-expired"
    title = "Unauthorized"
    challenge = 'Bearer realm="amanah", error="invalid_token", error_description="the token expired"'


class TokenLacksRight(Forbidden):
    """A valid token whose organisation may not read this."""

    code = "forbidden"
    title = "Forbidden"


def _unauthenticated() -> Unauthenticated:
    expired_at = g.get("token_expired_at")
    if expired_at is not None:
        return TokenExpired(f"the bearer token expired at {expired_at}; ask the registrar for a new one "
                            "(amanah token issue)")
    return TokenRequired("a valid bearer token is required: Authorization: Bearer amanah_...")


def require(*kinds: str, own_company: bool = False) -> Callable:
    """Allow token holders whose organisation kind is in `kinds`; with `own_company`, also the
    company named by the `company` path argument, and no other company."""
    allowed = frozenset(kinds)

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            who = caller()
            if who is None:
                raise _unauthenticated()
            organisation, kind = who
            if kind in allowed:
                return view(*args, **kwargs)
            if own_company and kind == "company" and kwargs.get("company") == organisation:
                return view(*args, **kwargs)
            raise TokenLacksRight(f"a {kind} token may not read this")

        return wrapper

    return decorate
