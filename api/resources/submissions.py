"""Writers: signed submissions. Authenticated by their signature alone."""

from __future__ import annotations

from flask import Response, current_app, json, request
from flask.views import MethodView
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, RequestTimeout
from api.blueprint import Blueprint

from api.auth import services
from api.problems import problem
from api.schemas import SubmissionResultSchema, SubmissionSchema
from ledger.canonical import parse_json_strict
from ledger.errors import Busy, Conflict, Forbidden, Invalid, NotFound, RuleViolation

blp = Blueprint("submissions", __name__, url_prefix="/api/v1", description="Writers: signed submissions")


@blp.route("/submissions")
class Submissions(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": SubmissionSchema}}})
    @blp.response(201, SubmissionResultSchema)
    @blp.alt_response(200, schema=SubmissionResultSchema, description="idempotent replay: the original result")
    @blp.errors(Invalid, Forbidden, NotFound, Conflict, RuleViolation, 408, 413, 415, Busy)
    def post(self):
        """Store a signed single event or batch, all or nothing; returns its entries and checkpoint."""
        if request.mimetype != "application/json":
            return problem(415, "Unsupported Media Type", "send the submission as application/json",
                           "unsupported-media-type")
        document = parse_json_strict(request_body(), "submission")
        serving = services()
        with serving.write_lock:
            result = serving.ledger.submit(document)
        response = Response(json.dumps(result), status=200 if result["replayed"] else 201,
                            mimetype="application/json")
        if not result["replayed"]:
            # Once the answer is sent (the server closes the response after writing it), one thread
            # per process catches the views up for this and any submissions that follow within
            # a moment (api/views_follower.py); every read catches them up first anyway.
            response.call_on_close(lambda: serving.follower.stored(result["first_index"], result["last_index"]))
        return response


def request_body() -> bytes:
    """The request body. Werkzeug cuts a streamed (chunked) body at MAX_CONTENT_LENGTH without
    saying so; one that reaches the limit was longer, and is refused rather than parsed in part."""
    try:
        data = request.get_data(cache=False)
    except TimeoutError as error:  # the client stalled longer than the server waits (api/server_worker.py)
        raise RequestTimeout("the request body stopped arriving before its end; send it again") from error
    except ParseException as error:  # gunicorn reads a chunked body as the application asks for it
        raise BadRequest(f"the chunked request body is malformed ({error}); send each chunk as its size "
                         "in hex, CRLF, the bytes, CRLF, and end with a chunk of size 0") from error
    if request.content_length is None and len(data) >= current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()
    return data

