"""The flow of `amanah import`: template, dry run, then (with --submit) sign and submit to the
local ledger or a server, reporting any refusal at its row and column."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from api.spreadsheets import Refusal
from cli.common import FileExists, server_refusal
from cli.importing import People, Plan, kind_named, plan_file, template
from ledger import personal
from ledger.client import Signer
from ledger.errors import InvalidInput, LedgerError
from ledger.nik import check_nik

EXIT_OK, EXIT_REFUSED, EXIT_SETUP = 0, 2, 3
OPTIONS = ("programme", "batch", "disbursement", "month", "paid_on")


def write_template(path: Path) -> int:
    """Write the template the file name asks for (premiums.xlsx, receipts.csv, ...)."""
    kind, data = template(path)
    if path.exists():
        raise FileExists(f"{path} exists already: the template is not written over it", field="template")
    path.write_bytes(data)
    print(f"wrote the {kind.name} template {path}: fill in the settings at the top and one row per "
          f"{'worker' if kind.name in ('premiums', 'enrolments') else 'record'} (see docs/importing.md)")
    return EXIT_OK


def people_for(ledger) -> People:
    """NIK look-ups through the ledger's index when a ledger is at hand; a person never enrolled
    gets a fresh random reference (the index links it to the NIK, and erasure deletes the link)."""
    find = ledger.worker_reference_for if ledger is not None else None
    return People(find, lambda nik: personal.new_worker_reference(), check_nik)


def dry_run(arguments, ledger) -> Plan:
    """Read and check the file; nothing is stored."""
    path: Path = arguments.file
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}", field="file") from None
    options = {name: getattr(arguments, name, None) for name in OPTIONS}
    return plan_file(data, path.name, kind_named(arguments.kind), people_for(ledger), options)


def show(plan: Plan, as_json: bool, extra: dict | None = None) -> None:
    report = plan.report() | (extra or {})
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print(f"{plan.file_name}: {plan.kind}, {report['rows']} rows: {report['rows_accepted']} accepted, "
          f"{report['rows_refused']} refused (sha256 {plan.sha256[:16]}...)")
    for refusal in report["refusals"]:
        print(f"  refused {Refusal(**refusal)}")
    print("  totals: " + ", ".join(f"{name} {value:,}" if isinstance(value, int) else f"{name} {value}"
                                   for name, value in plan.totals.items()))
    if "refused" in report:
        print(f"  refused by the ledger: {Refusal(**report['refused'])}; nothing was stored")
    if "result" in report:
        result = report["result"]
        print(f"  {'already imported' if result.get('replayed') else 'submitted'}: {result.get('count')} entries "
              f"from entry {result.get('first_index')}")


def submit_local(plan: Plan, ledger, actor: str, key) -> tuple[int, dict]:
    """Sign and submit to the local ledger: (exit code, result or refusal)."""
    try:
        return EXIT_OK, ledger.submit(plan.submission(Signer(ledger.origin, actor, key)))
    except LedgerError as error:
        return EXIT_REFUSED, {"refused": plan.explain(error).as_dict()}


def submit_remote(plan: Plan, base: str, actor: str, key) -> tuple[int, dict]:
    """Sign for the server's origin and POST the submission: (exit code, result or refusal)."""
    try:
        with urllib.request.urlopen(base + "/api/v1/keys", timeout=30) as response:
            origin = json.loads(response.read())["origin"]
        body = json.dumps(plan.submission(Signer(origin, actor, key))).encode()
        request = urllib.request.Request(base + "/api/v1/submissions", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return EXIT_OK, json.loads(response.read())
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read() or b"{}")
        first = next(iter(problem.get("errors") or []), {})
        field = first.get("field")
        refused = server_refusal(error.code, problem.get("detail", str(error.reason)).removeprefix(
            f"{field}: " if field else ""), problem.get("code", str(error.code)), field=field,
            index=first.get("envelope"))
        if refused.code == "idempotency-conflict":
            # The key is this file's digest: the file was imported before, with references the
            # server's index holds (a client without the index drew new ones for this retry).
            return EXIT_OK, {"replayed": True, "detail": problem.get("detail")}
        return (EXIT_REFUSED if error.code < 500 else EXIT_SETUP), {"refused": plan.explain(refused).as_dict()}
    except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
        print(f"amanah: cannot reach {base}: {error}", file=sys.stderr)
        return EXIT_SETUP, {}
