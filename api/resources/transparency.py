"""Public transparency endpoints: checkpoints, keys, proofs, programme totals, health."""

from __future__ import annotations

from flask import Response, json, request
from flask.views import MethodView
from api.blueprint import Blueprint

from api.auth import services
from api.schemas import (
    CheckpointArgs, CheckpointSchema, CheckpointsArgs, ConsistencyArgs, ConsistencySchema, HealthSchema,
    InclusionArgs, ProofSchema, YearArgs,
)
from api.answers import CosignedCheckpointAnswer, KeysAnswer, TotalsAnswer, answer
from ledger.checkpoint_keys import history_json
from ledger.errors import Busy, Invalid, LedgerNotInitialised, Unavailable
from ledger.signing import b64encode
from ledger.witness_table import cosigned
from projections.queries import programme_totals

blp = Blueprint("transparency", __name__, url_prefix="/api/v1", description="Public: checkpoints, keys, proofs")


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.arguments(CheckpointArgs, location="query")
    @blp.response(200, CosignedCheckpointAnswer, description="the latest signed checkpoint (C2SP signed note)")
    @blp.alt_response(200, schema={"type": "string"}, content_type="text/plain",
                      description="the latest signed checkpoint (C2SP signed note)")
    @blp.errors(Invalid, Unavailable, Busy)
    def get(self, args):
        """The latest signed checkpoint with its witnesses' cosignature lines, as a text/plain signed
        note (or JSON with Accept or format=json)."""
        checkpoint = cosigned(services().ledger, services().ledger.latest_checkpoint())
        if checkpoint is None:
            raise LedgerNotInitialised("the ledger has no checkpoint yet")
        wants_json = args.get("format") == "json" or (
            "format" not in args and request.accept_mimetypes.best_match(["text/plain", "application/json"])
            == "application/json" and request.accept_mimetypes["application/json"] >
            request.accept_mimetypes["text/plain"])
        if wants_json:
            response = Response(json.dumps(checkpoint), mimetype="application/json")
        else:
            response = Response(checkpoint["note"], mimetype="text/plain")
        response.vary.add("Accept")
        return response


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.arguments(CheckpointsArgs, location="query")
    @blp.response(200, CheckpointSchema(many=True))
    @blp.errors(Invalid, Busy)
    def get(self, args):
        """Every signed checkpoint from start_size on, oldest first (paged)."""
        return services().ledger.checkpoints(args["start_size"], args["limit"])


@blp.route("/keys")
class Keys(MethodView):
    @answer(blp, KeysAnswer, "organisations, their keys, and the checkpoint key")
    @blp.errors(Busy)
    def get(self):
        """Organisations and keys (valid by entry index); checkpoint keys and the tree sizes each signs."""
        ledger = services().ledger
        genesis = ledger.genesis()
        if genesis is None:
            raise LedgerNotInitialised("the ledger has no genesis entry yet")
        services().catch_up()
        organisations = []
        for organisation_id in _organisation_ids():
            organisation = ledger.organisation(organisation_id)
            organisations.append({
                "organisation": organisation.organisation_id, "legal_name": organisation.legal_name,
                "kind": organisation.kind, "keys": [{
                    "key_id": key.key_id, "public_key": b64encode(key.public_key), "valid_from": key.valid_from,
                    "revoked_at": key.revoked_at, "revocation_reason": key.revocation_reason}
                    for key in organisation.keys.values()]})
        history = ledger.checkpoint_key_history()
        return {"origin": ledger.origin, "checkpoint_key": history[-1].verifier_key,
                "checkpoint_keys": history_json(history), "organisations": organisations,
                # Pin these from the witnesses themselves too: a server could list keys it holds.
                "witnesses": [{"verifier_key": witness.verifier_key, "url": witness.url}
                              for witness in services().settings.witnesses]}


def _organisation_ids() -> list[str]:
    from sqlalchemy import select

    from projections import tables as t

    with services().runner.engine.connect() as connection:
        return [row[0] for row in connection.execute(select(t.organisations.c.organisation)
                                                     .order_by(t.organisations.c.organisation))]


@blp.route("/proofs/inclusion")
class Inclusion(MethodView):
    @blp.arguments(InclusionArgs, location="query")
    @blp.response(200, ProofSchema)
    @blp.errors(Invalid, Busy)
    def get(self, args):
        """Audit path of entry `index` in the tree of `size` entries (RFC 6962)."""
        return services().ledger.inclusion_proof(args["index"], args["size"])


@blp.route("/proofs/consistency")
class Consistency(MethodView):
    @blp.arguments(ConsistencyArgs, location="query")
    @blp.response(200, ConsistencySchema)
    @blp.errors(Invalid, Busy)
    def get(self, args):
        """Proof that the tree of `first` entries is a prefix of the tree of `second`."""
        return services().ledger.consistency_proof(args["first"], args["second"])


@blp.route("/totals")
class Totals(MethodView):
    @answer(blp, TotalsAnswer, "programme totals and the checkpoint they stand at")
    @blp.arguments(YearArgs, location="query")
    @blp.errors(Invalid, Busy)
    def get(self, args):
        """Programme totals (money, coverage, claims) with no personal data."""
        services().catch_up()
        with services().runner.engine.connect() as connection:
            totals = programme_totals(connection, args.get("year"))
        totals["checkpoint"] = services().reports.checkpoint() if services().runner.position() else None
        return totals


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """Liveness, and how far the views are behind the log and why: a view that failed is
        reported here (status "degraded", with its last error and when) until a run applies."""
        views = services().runner.status()
        status = "degraded" if views["views_error"] else "ok"
        return {"status": status, "tree_size": services().ledger.size(), **views}
