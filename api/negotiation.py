"""Choosing JSON, CSV or PDF by `format=` or the Accept header."""

from __future__ import annotations

from flask import Response, json, request

MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "pdf": "application/pdf"}


def chosen_format(explicit: str | None) -> str:
    if explicit:
        return explicit
    best = request.accept_mimetypes.best_match(list(MEDIA_TYPES.values()), default="application/json")
    return next(name for name, media in MEDIA_TYPES.items() if media == best)


def document_response(document: dict, kind: str, explicit: str | None, filename: str) -> Response:
    """A signed document as JSON, CSV or PDF."""
    chosen = chosen_format(explicit)
    if chosen == "json":
        response = Response(json.dumps(document), mimetype="application/json")
        response.vary.add("Accept")
        return response
    from projections import render  # PDF and CSV code loads only when asked for

    if chosen == "csv":
        body = render.statement_csv(document) if kind == "statement" else render.awards_csv(document)
    else:
        body = render.statement_pdf(document) if kind == "statement" else render.awards_pdf(document)
    response = Response(body, mimetype=MEDIA_TYPES[chosen])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{chosen}"'
    response.vary.add("Accept")  # the same URL answers in another format for another Accept
    return response
