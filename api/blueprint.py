"""flask-smorest blueprints whose query arguments refuse unknown parameters too."""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    """Unknown fields are refused in every location (webargs excludes them in the query by default)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {location: None for location in FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION}
    DEFAULT_VALIDATION_STATUS = 400  # a malformed request; 422 is kept for domain rules


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
