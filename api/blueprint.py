"""flask-smorest blueprints whose query arguments refuse unknown parameters too, and that document
a route's error answers by the public bases of ledger/errors.py."""

from __future__ import annotations

import http

import flask_smorest
from webargs.flaskparser import FlaskParser

from api.problems import status_of_kind


class StrictParser(FlaskParser):
    """Unknown fields are refused in every location (webargs excludes them in the query by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {location: None for location in FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION}
    DEFAULT_VALIDATION_STATUS = 400  # a malformed request; 422 is kept for domain rules


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()

    def errors(self, *kinds: type | int):
        """Document the error answers a route gives: one problem+json response per status of the
        given public bases (ledger/errors.py), or plain statuses (413, 415)."""
        statuses = sorted({kind if isinstance(kind, int) else status_of_kind(kind) for kind in kinds})

        def decorate(view):
            for status in statuses:
                view = self.alt_response(status, response=http.HTTPStatus(status).name)(view)
            return view

        return decorate
