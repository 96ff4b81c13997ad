"""One error shape for every failure: RFC 9457 application/problem+json. No stack trace ever
reaches a client; unexpected errors are logged with an id the client can quote."""

from __future__ import annotations

import http
import logging
import uuid

import marshmallow as ma
from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from ledger import errors

logger = logging.getLogger("amanah.api")
PROBLEM_TYPE = "https://amanah.example/problems/"
MEDIA_TYPE = "application/problem+json"
# By public base (ledger/errors.py): an error takes the status of the first of these in its MRO.
STATUS_BY_BASE = {
    errors.Unauthenticated: 401, errors.Forbidden: 403, errors.NotFound: 404, errors.Conflict: 409,
    errors.RuleViolation: 422,  # well formed and signed, but against a domain rule
    errors.Invalid: 400, errors.Busy: 503, errors.Unavailable: 503, errors.Misconfigured: 500,
}


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String()
    detail = ma.fields.String()
    envelope = ma.fields.Integer(metadata={"description": "the refused envelope's position in the submission"})


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only)."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    instance = ma.fields.String()
    code = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


# What each documented error status means, by the public bases answered with it.
ERROR_STATUS_MEANING = {
    400: "Invalid: malformed input or a proof that cannot be made; `errors` names the field",
    401: "Unauthenticated: no valid bearer token (code `unauthorized`, or `token-expired`)",
    403: "Forbidden: the signer or the token's holder may not do this",
    404: "NotFound: the thing referred to does not exist",
    409: "Conflict: contradicts what is stored (idempotency key reused, already exists)",
    413: "the body is over the limit",
    415: "the body is not application/json",
    422: "RuleViolation: well formed and signed, but against a domain rule",
    503: "Busy (send the same request again after Retry-After) or Unavailable (not yet: no genesis, "
         "views behind)",
}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": "the bearer scheme", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds to wait before sending it again (Busy)",
                          "schema": {"type": "integer"}}},
}


def document_error_responses(spec, default_name: str) -> None:
    """Document every error response as application/problem+json, the type it is sent with."""
    # flask-smorest registers a response per status name (BAD_REQUEST, ...) and its default error
    # response lazily, as application/json; registering the same names again, lazily, through
    # apispec's public components replaces them before any operation refers to them.
    for status in http.HTTPStatus:
        if status >= 400:
            meaning = ERROR_STATUS_MEANING.get(status.value)
            component = {"description": f"{status.phrase}. {meaning}" if meaning else status.phrase,
                         "content": {MEDIA_TYPE: {"schema": ProblemSchema}}}
            if status.value in ERROR_HEADERS:
                component["headers"] = ERROR_HEADERS[status.value]
            spec.components.response(status.name, component, lazy=True)
    spec.components.response(default_name, {"description": "Default error response", "content": {
        MEDIA_TYPE: {"schema": ProblemSchema}}}, lazy=True)


def status_of_kind(kind: type[errors.LedgerError]) -> int:
    """The HTTP status of a kind of ledger error: its nearest public base's; 400 for a bare LedgerError."""
    return next((STATUS_BY_BASE[base] for base in kind.__mro__ if base in STATUS_BY_BASE), 400)


def problem(status: int, title: str, detail: str, code: str, field_errors: list[dict] | None = None,
            headers: dict | None = None) -> Response:
    """A problem+json response."""
    body = {"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": detail,
            "instance": request.path if request else "", "code": code}
    if field_errors:
        body["errors"] = field_errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_of(error: errors.LedgerError) -> int:
    """The HTTP status of a ledger error: its nearest public base's; 400 for a bare LedgerError."""
    return status_of_kind(type(error))


def from_ledger_error(error: errors.LedgerError) -> Response:
    status = status_of(error)
    if isinstance(error, errors.Unauthenticated):  # RFC 9110: a 401 names its scheme
        challenge = getattr(error, "challenge", 'Bearer realm="amanah"')
        return problem(status, _title(error), str(error), error.code, headers={"WWW-Authenticate": challenge})
    if isinstance(error, errors.Busy):
        return problem(status, "Service Unavailable", str(error), error.code,
                       headers={"Retry-After": str(error.retry_after_s)})
    if isinstance(error, errors.Unavailable):  # not yet: no genesis, a checkpoint not yet witnessed
        return problem(status, "Service Unavailable", str(error), error.code)
    if isinstance(error, errors.Misconfigured):  # the detail may name paths and settings: log it only
        logger.error("configuration problem: %s", error)
        return problem(status, "Server misconfigured", "the server cannot do this now; the operator was told",
                       error.code)
    field_errors = [{"field": error.field, "detail": error.detail}] if error.field is not None else None
    if field_errors and error.index is not None:
        field_errors[0]["envelope"] = error.index
    return problem(status, _title(error), str(error), error.code, field_errors)


def _title(error: errors.LedgerError) -> str:
    """The error's `title`, else the first line of its docstring, else its code."""
    title = getattr(error, "title", None)
    if title:
        return title
    return type(error).__doc__.split("\n")[0].rstrip(".") if type(error).__doc__ else error.code


def from_http_exception(error: HTTPException) -> Response:
    if error.response is not None:  # abort(redirect(...)) from the pages: pass it through
        return error.response
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    field_errors = list(_flatten(messages)) if messages else None
    detail = data.get("message") or error.description or error.name
    if field_errors:
        detail = "; ".join(f"{item['field']}: {item['detail']}" for item in field_errors)
    status, title = error.code or 500, error.name
    return problem(status, title, detail, title.lower().replace(" ", "-"), field_errors,
                   data.get("headers") or _allow_header(error))


def _allow_header(error: HTTPException) -> dict:
    valid = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(valid)} if valid else {}


def _flatten(messages: object, prefix: str = ""):
    """webargs' nested {location: {field: [messages]}} into [{field, detail}]."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = key if key in ("json", "query", "path", "headers", "form", "files") and not prefix else (
                f"{prefix}.{key}" if prefix else str(key))
            yield from _flatten(value, "" if name in ("json", "query", "path", "headers") else name)
    elif isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        yield {"field": prefix or "$", "detail": " ".join(messages)}
    elif isinstance(messages, list):
        for position, item in enumerate(messages):
            yield from _flatten(item, f"{prefix}[{position}]")
    else:
        yield {"field": prefix or "$", "detail": str(messages)}


def unexpected(error: Exception) -> Response:
    if errors.is_lock_timeout(error):  # a lock wait in the views or tokens, outside the ledger's recorders
        logger.warning("a database lock wait timed out: %s", error)
        return from_ledger_error(errors.StorageBusy("the database is busy with another writer; send the same "
                                                    "request again"))
    incident = uuid.uuid4().hex[:12]
    logger.exception("unexpected error %s", incident)
    return problem(500, "Internal Server Error", f"an unexpected error occurred (incident {incident}); "
                   "nothing was stored", "internal-error")
