"""`amanah token`, `projections`, `statement`, `awards`, `trace` and `serve`: the read side and
the server, which need the views (and Flask for `trace` and `serve`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli import common
from cli.common import EXIT_OK, EXIT_REFUSED
from ledger.errors import InvalidInput, NotFound


def add_parsers(commands) -> None:
    """The `token`, `projections`, `statement`, `awards`, `trace` and `serve` commands."""
    token = commands.add_parser("token", help="read-access tokens").add_subparsers(metavar="ACTION")
    issue = token.add_parser("issue", help="issue a bearer token for an organisation (shown once)")
    issue.add_argument("organisation")
    issue.add_argument("--label", default="")
    issue.add_argument("--expires-in-days", type=int, metavar="N",
                       help="the token stops working after N days (1-3650); without it, only revocation ends it")
    issue.set_defaults(handler=command_token, action="issue")
    revoke = token.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.set_defaults(handler=command_token, action="revoke")
    listing = token.add_parser("list", help="list tokens (ids only; tokens are stored as hashes)")
    listing.set_defaults(handler=command_token, action="list")

    projections = commands.add_parser("projections", help="read models").add_subparsers(metavar="ACTION")
    for action, help_text in (("run", "catch the views up with the log"), ("rebuild", "rebuild every view from the log")):
        sub = projections.add_parser(action, help=help_text)
        sub.set_defaults(handler=command_projections, action=action)

    statement = commands.add_parser("statement", help="a company's signed impact statement")
    statement.add_argument("company")
    statement.add_argument("--period", required=True, help="2025, 2025-H1 or 2025-H2")
    statement.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    statement.add_argument("--output", type=Path, help="file to write (default: stdout; PDF needs a file)")
    statement.set_defaults(handler=command_document, kind="statement")

    awards = commands.add_parser("awards", help="the signed award list of a year")
    awards.add_argument("year", type=int)
    awards.add_argument("--format", choices=["json", "csv", "pdf"], default="json")
    awards.add_argument("--output", type=Path)
    awards.set_defaults(handler=command_document, kind="awards")

    trace = commands.add_parser("trace", help="trace an entry forward and backward")
    trace.add_argument("index", type=int)
    trace.set_defaults(handler=command_trace)

    serve = commands.add_parser("serve", help="run the API with a production WSGI server (gunicorn)")
    serve.add_argument("--bind", default="127.0.0.1:8000")
    serve.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    serve.add_argument("--threads", type=int, default=8, help="threads per process serving requests (default 8)")
    serve.set_defaults(handler=command_serve)


def command_token(arguments: argparse.Namespace) -> int:
    services = common.services(arguments)
    if arguments.action == "issue":
        if services.ledger.organisation(arguments.organisation) is None:
            raise NotFound(f"{arguments.organisation!r} is not a registered organisation", field="organisation")
        token, token_id = services.tokens.issue(arguments.organisation, arguments.label, arguments.expires_in_days)
        expiry = f", expires in {arguments.expires_in_days} days" if arguments.expires_in_days else ""
        print(f"token for {arguments.organisation} (id {token_id}{expiry}); it is shown only now:")
        print(token)
    elif arguments.action == "revoke":
        services.tokens.revoke(arguments.token_id)
        print(f"revoked {arguments.token_id}")
    else:
        common.print_json(services.tokens.list())
    return EXIT_OK


def command_projections(arguments: argparse.Namespace) -> int:
    services = common.services(arguments)
    bar, update = common.progress(f"projections {arguments.action}")
    with bar:
        count = (services.runner.rebuild if arguments.action == "rebuild" else services.runner.run)(update)
    print(f"applied {count} entries; views at {services.runner.position()} of {services.ledger.size()}")
    failure = services.runner.failure()
    if failure is not None:
        print(f"views stopped at entry {failure['position']} ({failure['failed_at']}): {failure['error']}",
              file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def command_document(arguments: argparse.Namespace) -> int:
    from projections import render

    services = common.services(arguments)
    if arguments.kind == "statement":
        document = services.reports.statement(arguments.company, arguments.period)
    else:
        document = services.reports.awards(arguments.year)
    if arguments.format == "json":
        body: bytes = json.dumps(document, indent=2, ensure_ascii=False).encode()
    elif arguments.format == "csv":
        body = (render.statement_csv if arguments.kind == "statement" else render.awards_csv)(document).encode()
    else:
        if arguments.output is None:
            raise InvalidInput("a PDF needs --output FILE", field="output")
        body = (render.statement_pdf if arguments.kind == "statement" else render.awards_pdf)(document)
    if arguments.output:
        arguments.output.write_bytes(body)
        print(f"wrote {arguments.output}")
    else:
        sys.stdout.write(body.decode() + "\n")
    return EXIT_OK


def command_trace(arguments: argparse.Namespace) -> int:
    from api.app import create_app
    from api.resources.audit import trace_entry

    app = create_app({"SETTINGS": common.settings(arguments)})
    with app.app_context():
        common.print_json(trace_entry(arguments.index))
    return EXIT_OK


def command_serve(arguments: argparse.Namespace) -> int:
    from api.server import serve

    settings = common.settings(arguments)
    return serve(settings, arguments.bind, arguments.workers, arguments.threads)
