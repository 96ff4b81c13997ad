"""The Flask application factory."""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from api import pages, problems
from api.resources import audit, awards, companies, submissions, transparency
from api.services import Services
from ledger.config import Settings
from ledger.errors import LedgerError

MAX_BODY_BYTES = 16 * 1024 * 1024  # a month of 11,860 premium lines is about 6 MB


def _session_secret(settings: Settings) -> bytes:
    """The page's session key: a file beside the other keys, made on first use."""
    from ledger import personal

    path = settings.home / "keys" / "session.secret"
    personal.create_secret(path)
    return personal.read_secret(path)


class ProblemApi(Api):
    """flask-smorest with every HTTP error rendered as problem+json."""

    ERROR_SCHEMA = problems.ProblemSchema

    def handle_http_exception(self, error):
        return problems.from_http_exception(error)

    def _register_responses(self):
        """Document error responses as application/problem+json, the type they are sent with
        (flask-smorest would document its default, application/json)."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, problems.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` may carry SETTINGS (a ledger Settings) and Flask options."""
    app = Flask(__name__)
    app.config.update(
        API_TITLE="Amanah ledger API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    settings = app.config.get("SETTINGS") or Settings.from_environment()
    app.extensions["amanah"] = Services.build(settings)
    app.secret_key = _session_secret(settings)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    api = ProblemApi(app)
    for module in (transparency, submissions, audit, companies, awards):
        api.register_blueprint(module.blp)
    app.register_blueprint(pages.blp)
    app.register_error_handler(LedgerError, problems.from_ledger_error)
    app.register_error_handler(HTTPException, problems.from_http_exception)
    app.register_error_handler(Exception, problems.unexpected)
    return app
