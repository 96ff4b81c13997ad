"""The city's award: the signed list in every format, and a preview (a dry run) of a year's
list under the published criteria or under criteria the city is considering."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from api.blueprint import Blueprint

from api.auth import AUDITORS, require, services
from api.negotiation import document_response
from api.problems import problem
from api.resources.submissions import request_body
from api.answers import answer
from api.schemas import CriteriaSchema, FormatArgs
from api.signed_answers import AwardPreviewAnswer, AwardsAnswer
from ledger.canonical import parse_json_strict
from ledger.domain.awards import check_criteria, criteria_of
from ledger.errors import Busy, Forbidden, Invalid, InvalidInput, NotFound, Unauthenticated

blp = Blueprint("awards", __name__, url_prefix="/api/v1", description="The annual award list")
MAX_CRITERIA_BYTES = 256 * 1024


@blp.route("/awards/<int(min=2000, max=2100):year>")
class Awards(MethodView):
    @answer(blp, AwardsAnswer, "the signed award list, with the city's decision and criteria when published",
            "text/csv", "application/pdf")
    @blp.arguments(FormatArgs, location="query")
    @blp.errors(Invalid, NotFound, Busy)
    def get(self, args, year):
        """The signed award list of contributing companies for `year`, as JSON, CSV or PDF."""
        document = services().reports.awards(year)
        return document_response(document, "awards", args.get("format"), f"awards-{year}")


@blp.route("/awards/<int(min=2000, max=2100):year>/preview")
class AwardPreview(MethodView):
    @answer(blp, AwardPreviewAnswer, "the award list the city's newest published criteria give now (not signed)")
    @blp.errors(NotFound, Busy)
    def get(self, year):
        """A dry run: the list the newest published criteria (else the defaults) would give now."""
        return services().reports.award_preview(year)

    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": CriteriaSchema}}})
    @answer(blp, AwardPreviewAnswer, "the award list these criteria would give now (not signed, nothing stored)")
    @require("city", *AUDITORS)
    @blp.errors(Invalid, Unauthenticated, Forbidden, NotFound, 415, Busy)
    def post(self, year):
        """A dry run of criteria the city is considering: the body is the criteria object."""
        if request.mimetype != "application/json":
            return problem(415, "Unsupported Media Type", "send the criteria as application/json",
                           "unsupported-media-type")
        body = request_body()
        if len(body) > MAX_CRITERIA_BYTES:
            raise InvalidInput(f"criteria are at most {MAX_CRITERIA_BYTES:,} bytes", field="criteria")
        criteria = parse_json_strict(body, "criteria")
        if not isinstance(criteria, dict):
            raise InvalidInput("must be a JSON object", field="criteria")
        check_criteria(criteria, "criteria")
        return services().reports.award_preview(year, criteria_of(criteria))
