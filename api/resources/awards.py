"""The city's award list: public, in every format."""

from __future__ import annotations

from flask.views import MethodView
from api.blueprint import Blueprint

from api.auth import services
from api.negotiation import document_response
from api.schemas import FormatArgs, signed_document

blp = Blueprint("awards", __name__, url_prefix="/api/v1", description="The annual award list")


@blp.route("/awards/<int(min=2000, max=2100):year>")
class Awards(MethodView):
    @blp.doc(**signed_document("the signed award list"))
    @blp.arguments(FormatArgs, location="query")
    def get(self, args, year):
        """The signed award list of contributing companies for `year`, as JSON, CSV or PDF."""
        document = services().reports.awards(year)
        return document_response(document, "awards", args.get("format"), f"awards-{year}")
