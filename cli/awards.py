"""`amanah award`: the city publishes its award criteria, previews the list they give (a dry
run), and publishes its decision, each signed with the city's key (docs/awards.md)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from cli import common
from ledger import signing
from ledger.canonical import canonical_bytes, parse_json_strict
from ledger.client import Signer
from ledger.domain.awards import check_criteria, criteria_of
from ledger.errors import InvalidInput

WIB = timezone(timedelta(hours=7))
MAX_CRITERIA_FILE_BYTES = 256 * 1024


def add_parser(commands, passphrase_flag) -> None:
    """The `award` subcommands."""
    award = commands.add_parser("award", help="the city's award: criteria, preview, decision").add_subparsers(
        metavar="ACTION")
    criteria = award.add_parser("criteria", help="publish the award criteria for YEAR from a JSON file, signed "
                                                 "by the city")
    criteria.add_argument("year", type=int)
    criteria.add_argument("file", type=Path, help="criteria JSON (docs/awards.md shows one)")
    criteria.add_argument("--published-on", help="YYYY-MM-DD (default: today in WIB)")
    _signing_flags(criteria, passphrase_flag)
    criteria.set_defaults(handler=command_criteria)
    preview = award.add_parser("preview", help="the list YEAR's criteria give now: a dry run, nothing signed")
    preview.add_argument("year", type=int)
    preview.add_argument("--criteria", type=Path, help="criteria JSON to try (default: the published ones)")
    preview.add_argument("--url", help="ask this Amanah server instead of the local ledger")
    preview.add_argument("--json", action="store_true", help="print the preview as JSON")
    preview.set_defaults(handler=command_preview)
    decide = award.add_parser("decide", help="rank YEAR's companies under the published criteria at the latest "
                                             "checkpoint and publish the decision, signed by the city")
    decide.add_argument("year", type=int)
    decide.add_argument("--decided-on", help="YYYY-MM-DD (default: today in WIB)")
    decide.add_argument("--supersedes", type=int, help="the entry of the decision this one replaces")
    decide.add_argument("--reason", help="why the earlier decision is replaced (with --supersedes)")
    _signing_flags(decide, passphrase_flag)
    decide.set_defaults(handler=command_decide)


def _signing_flags(parser: argparse.ArgumentParser, passphrase_flag) -> None:
    parser.add_argument("--actor", required=True, help="the city's organisation id")
    parser.add_argument("--key", type=Path, required=True, help="the city's private key file")
    parser.add_argument("--url", help="submit to this Amanah server instead of the local ledger")
    passphrase_flag(parser)


def read_criteria(path: Path) -> dict:
    """A criteria file, checked field by field (the same checks the ledger makes)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"{path}: {error.strerror}", field="file") from error
    if len(data) > MAX_CRITERIA_FILE_BYTES:
        raise InvalidInput(f"{path}: criteria are at most {MAX_CRITERIA_FILE_BYTES:,} bytes", field="file")
    criteria = parse_json_strict(data, str(path))
    if not isinstance(criteria, dict):
        raise InvalidInput(f"{path}: must be a JSON object", field="file")
    check_criteria(criteria, "criteria")
    return criteria


def command_criteria(arguments: argparse.Namespace) -> int:
    criteria = read_criteria(arguments.file)
    payload = {"year": arguments.year, "published_on": arguments.published_on or _today(),
               **criteria_of(criteria), **({"note": criteria["note"]} if "note" in criteria else {})}
    digest = hashlib.sha256(canonical_bytes(payload)).hexdigest()[:32]
    return _submit(arguments, f"award-criteria-{arguments.year}-{digest}", "award.criteria_published", payload)


def command_preview(arguments: argparse.Namespace) -> int:
    criteria = criteria_of(read_criteria(arguments.criteria)) if arguments.criteria else None
    preview = _preview(arguments, arguments.year, criteria)
    if arguments.json:
        print(json.dumps(preview, indent=2, ensure_ascii=False))
    else:
        _print_preview(preview)
    return 0


def command_decide(arguments: argparse.Namespace) -> int:
    if (arguments.supersedes is None) != (arguments.reason is None):
        raise InvalidInput("--supersedes and --reason go together", field="reason")
    preview = _preview(arguments, arguments.year, None)
    if preview["criteria_entry"] is None:
        raise InvalidInput(f"the city has published no award criteria for {arguments.year}: "
                           "`amanah award criteria` first", field="year")
    payload = {"year": arguments.year, "criteria_entry": preview["criteria_entry"],
               "checkpoint": preview["checkpoint"], "decided_on": arguments.decided_on or _today(),
               "awarded": [{"rank": item["rank"], "company": item["company"], "tier": item["tier"]}
                           for item in preview["awarded"]],
               "not_awarded": [item["company"] for item in preview["not_awarded"]]}
    if arguments.supersedes is not None:
        payload.update(supersedes=arguments.supersedes, reason=arguments.reason)
    _print_preview(preview)
    return _submit(arguments, f"award-decision-{arguments.year}-{preview['checkpoint']['tree_size']}",
                   "award.decided", payload)


def _preview(arguments: argparse.Namespace, year: int, criteria: dict | None) -> dict:
    if arguments.url:
        base = arguments.url.rstrip("/") + f"/api/v1/awards/{year}/preview"
        return _http(base, None if criteria is None else json.dumps(criteria).encode())
    return common.services(arguments).reports.award_preview(year, criteria)


def _submit(arguments: argparse.Namespace, idempotency_key: str, event_type: str, payload: dict) -> int:
    key = signing.read_private_key(arguments.key, common.passphrase(arguments))
    occurred_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    events = [(event_type, occurred_at, payload)]
    if arguments.url:
        return common.post(arguments.url.rstrip("/"), arguments.actor, key, idempotency_key, events)
    settings = common.settings(arguments)
    ledger = common.open_ledger(settings)
    common.print_json(ledger.submit(Signer(ledger.origin, arguments.actor, key).submission(idempotency_key, events)))
    common.ask_witnesses(settings, ledger)
    return 0


def _http(url: str, body: bytes | None) -> dict:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        raise common.server_refusal(error.code, f"{url}: {error.code} {problem.get('detail', error.reason)}",
                                    problem.get("code")) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise common.ServerUnavailable(f"cannot reach {url}: {error}", field="url") from error


def _print_preview(preview: dict) -> None:
    checkpoint = preview["checkpoint"]
    source = f"criteria entry {preview['criteria_entry']}" if preview["criteria_entry"] is not None else \
        "criteria not published (the defaults, or the file given)"
    print(f"{preview['year']}: {len(preview['awarded'])} awarded, {len(preview['not_awarded'])} contributed but "
          f"not awarded, at checkpoint {checkpoint['tree_size']} ({source})", file=sys.stderr)
    rank_by = preview["criteria"]["rank_by"]
    for item in preview["awarded"]:
        print(f"  {item['rank']:>3}  {item['tier']:<12} {item['company']:<40} {rank_by} {item[rank_by]:,}",
              file=sys.stderr)
    for item in preview["not_awarded"]:
        print(f"    -  {'':<12} {item['company']:<40} {'; '.join(item['reasons'])}", file=sys.stderr)


def _today() -> str:
    return datetime.now(WIB).date().isoformat()
