"""The Flask application factory."""

from __future__ import annotations

import atexit
import os
import weakref

from flask import Flask, Response, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from api import pages, problems
from api.resources import audit, awards, companies, submissions, transparency
from api.services import Services
from ledger.config import Settings
from ledger.errors import ConfigurationError, LedgerError

MAX_BODY_BYTES = 16 * 1024 * 1024  # a month of 11,860 premium lines is about 6 MB


def secure_cookies_setting(environ: dict | None = None) -> bool | str:
    """AMANAH_SECURE_COOKIES: "auto" (the default: Secure when the request came over HTTPS, as
    request.is_secure sees it), "1" (always: behind a proxy that terminates TLS) or "0" (never)."""
    value = (os.environ if environ is None else environ).get("AMANAH_SECURE_COOKIES", "auto").strip().lower()
    choices = {"auto": "auto", "1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
    if value not in choices:
        raise ConfigurationError("must be auto, 1 or 0", field="AMANAH_SECURE_COOKIES")
    return choices[value]


# The page has no inline script or style; SVG charts are inline elements, which CSP allows.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                    "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


class AsciiIntegerConverter(IntegerConverter):
    """`<int:...>` in ASCII digits only: werkzeug's \\d+ also matches fullwidth and Arabic-Indic digits."""

    regex = r"[0-9]+"


def _refuse_repeated_parameters() -> Response | None:
    """A parameter given twice is refused rather than silently resolved to one of its values."""
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            return problems.problem(400, "Bad Request", f"{name}: given more than once; give it once",
                                    "bad-request", [{"field": name, "detail": "given more than once"}])
    return None


def _security_headers(response: Response) -> Response:
    """Headers every response carries; answers that need a token are never stored by caches."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Authorization" in request.headers or pages.signed_in_request():
        response.headers["Cache-Control"] = "no-store"
    return response


class ProblemApi(Api):
    """flask-smorest with every HTTP error rendered, and documented, as problem+json."""

    ERROR_SCHEMA = problems.ProblemSchema

    def handle_http_exception(self, error):
        return problems.from_http_exception(error)


# Apps whose Services are open, closed at interpreter exit if nobody closed them before: a process
# that ends without close_app (a script, a test run) still releases its pools and its write-turn
# lock cleanly. Weak, so an app dropped by its owner is not kept alive by this record.
_OPEN_APPS: weakref.WeakSet[Flask] = weakref.WeakSet()


def close_app(app: Flask) -> None:
    """Close what the app's Services opened (ledger, pools, engines, write-turn lock, witness worker), once."""
    _OPEN_APPS.discard(app)
    services = app.extensions.get("amanah")
    if services is not None:
        services.close()


@atexit.register
def _close_open_apps() -> None:
    for app in list(_OPEN_APPS):
        close_app(app)


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` may carry SETTINGS (a ledger Settings) and Flask options."""
    app = Flask(__name__)
    app.url_map.converters["int"] = AsciiIntegerConverter
    # Werkzeug would answer //health with a redirect to an absolute URL built from the client's
    # Host header; without merging, such a path is simply not found.
    app.url_map.merge_slashes = False
    app.config.update(
        API_TITLE="Amanah ledger API", API_VERSION="v1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False,
    )
    app.config.update(AMANAH_SECURE_COOKIES=secure_cookies_setting())
    app.config.update(config or {})
    settings = app.config.get("SETTINGS") or Settings.from_environment()
    app.extensions["amanah"] = Services.build(settings)
    _OPEN_APPS.add(app)
    api = ProblemApi(app)
    problems.document_error_responses(api.spec, api.DEFAULT_ERROR_RESPONSE_NAME)
    for module in (transparency, submissions, audit, companies, awards):
        api.register_blueprint(module.blp)
    app.register_blueprint(pages.blp)
    app.before_request(_refuse_repeated_parameters)
    app.after_request(_security_headers)
    app.register_error_handler(LedgerError, problems.from_ledger_error)
    app.register_error_handler(HTTPException, problems.from_http_exception)
    app.register_error_handler(Exception, problems.unexpected)
    return app
