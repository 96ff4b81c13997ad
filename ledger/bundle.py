"""Export bundles, and verification of a bundle or of a live database, streamed page by page
(the writing is in ledger/bundle_export.py, the database's checks in ledger/database_check.py).

A bundle is a directory:
    manifest.json        format, origin, tree size, checkpoint verifier key, file digests
    entries.jsonl        format 1: one line per entry: {"entry": <entry object>, "index": n};
                         format 2 (the default): the same, except that a submission of 2+
                         envelopes is one record of what its entries share and one line per
                         envelope with the rest (ledger/bundle_v2.py)
    checkpoints.jsonl    one line per signed checkpoint, oldest first, each with the
                         consistency proof from the one before it
    organisations.json   organisations and keys with their validity, as replayed from the log
    cosignatures.jsonl   one line per checkpoint witnesses cosigned: its note with the cosignature
                         lines appended (docs/witnessing.md)
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ledger import parallel, signing
from ledger.award_check import check_award_decisions
from ledger.bundle_export import (FORMAT, FORMATS, PAGE, Progress, checkpoint_keys_json, export_bundle, no_progress,
                                  organisations_json)
from ledger.bundle_v2 import FORMAT_2, chunks
from ledger.canonical import canonical_bytes
from ledger.database_check import verify_database
from ledger.errors import InvalidInput, LedgerError
from ledger.verify import Report, Verifier
from ledger.witness_policy import WitnessPolicy, bundle_witness_failure

PARALLEL_FROM_ENTRIES = 20_000  # below this, starting worker processes costs more than it saves

__all__ = ["FORMAT", "FORMAT_2", "checkpoint_keys_json", "export_bundle", "kept_checkpoint_note", "organisations_json",
           "verify_bundle", "verify_database"]


def verify_bundle(directory: Path, progress: Progress = no_progress,
                  pinned_origin: str | None = None, pinned_checkpoint_key: str | None = None,
                  kept_checkpoints: Sequence[str] = (), jobs: int | None = None,
                  witness_policy: WitnessPolicy | None = None,
                  watch: Callable[[Verifier], None] | None = None) -> Report:
    """Verify a bundle with no server and no database; the log must extend every checkpoint in
    `kept_checkpoints` (signed notes the auditor saw earlier), and its newest checkpoint must be
    cosigned as `witness_policy` asks. Runs on `jobs` processes (default: one per core, for
    bundles big enough to repay starting them). `watch` is given the verifier before the first
    entry (to follow the entries, as the statement check does)."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError) as error:
        raise InvalidInput(f"{directory} is not a bundle: manifest.json unreadable ({error})",
                           field="bundle") from error
    bundle_format = manifest.get("format") if isinstance(manifest, dict) else None
    if bundle_format not in FORMATS.values():
        raise InvalidInput(f"unknown bundle format {manifest.get('format')!r}", field="bundle")
    verifier = Verifier(pinned_origin, pinned_checkpoint_key, kept_checkpoints)
    if watch is not None:
        watch(verifier)
    total = manifest.get("tree_size") if isinstance(manifest.get("tree_size"), int) else 0
    for name in ("entries.jsonl", "checkpoints.jsonl", "organisations.json"):
        if not (directory / name).is_file():
            raise InvalidInput(f"{directory} is not a complete bundle: {name} is missing", field="bundle")
    checkpoints = _read_checkpoint_lines(directory / "checkpoints.jsonl", verifier)
    position = 0
    if jobs is None:
        jobs = (os.cpu_count() or 1) if total >= PARALLEL_FROM_ENTRIES else 1
    with (directory / "entries.jsonl").open("rb") as handle:
        fed_in_order = verifier.feed_rebuilt(chunks(handle, parallel.CHUNK_ENTRIES), jobs) if bundle_format == FORMAT_2 else \
            verifier.feed_stream(_read_entry_lines(handle, verifier), jobs)
        for position in fed_in_order:
            checkpoints.send(position + 1)
            if position % PAGE == 0:
                progress(position, total)
        fed = verifier.report.entries
    checkpoints.send(None)
    progress(fed, total)
    report = verifier.finish()
    check_award_decisions(verifier)
    _check_organisations(directory / "organisations.json", verifier)
    _check_manifest(directory, manifest, verifier, fed)
    if witness_policy is not None:
        newest = [kept_checkpoint_note(directory)] if verifier.report.checkpoints else []
        failure = bundle_witness_failure(directory, witness_policy, time.time(), newest)
        if failure:
            verifier.fail(None, "witness", failure)
    return report


def _check_manifest(directory: Path, manifest: dict, verifier: Verifier, fed: int) -> None:
    """The manifest is unsigned, but each of its statements must be true of the bundle."""
    if manifest.get("tree_size") != fed:
        verifier.fail(None, "manifest", f"manifest says {manifest.get('tree_size')} entries, bundle holds {fed}")
    if manifest.get("root") != signing.b64encode(verifier.report.root):
        verifier.fail(None, "manifest", "manifest root differs from the root of the entries")
    if manifest.get("origin") != verifier.origin:
        verifier.fail(None, "manifest", f"manifest origin {manifest.get('origin')!r} is not the log's "
                      f"origin {verifier.origin!r}")
    in_force = verifier.checkpoint_keys[-1][1] if verifier.checkpoint_keys else None
    if manifest.get("checkpoint_key") != in_force:
        verifier.fail(None, "manifest", "manifest checkpoint_key is not the key in force at the log's end")
    if "checkpoint_keys" in manifest and manifest["checkpoint_keys"] != checkpoint_keys_json(verifier):
        verifier.fail(None, "manifest", "manifest checkpoint_keys differ from the keys genesis and the "
                      "rotations in the log declare")
    digests = manifest.get("sha256")
    optional = [name for name in ("cosignatures.jsonl",) if isinstance(digests, dict) and name in digests]
    for name in ("entries.jsonl", "checkpoints.jsonl", "organisations.json", *optional):
        stated = digests.get(name) if isinstance(digests, dict) else None
        if stated != _file_sha256(directory / name):
            verifier.fail(None, "manifest", f"manifest sha256 of {name} does not match the file "
                          "(changed after export)")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def kept_checkpoint_note(path: Path) -> str:
    """A checkpoint the auditor kept: a signed-note file (GET /api/v1/checkpoint), its JSON form,
    or an earlier bundle directory (its newest checkpoint)."""
    path = Path(path)
    try:
        if path.is_dir():
            lines = (path / "checkpoints.jsonl").read_text().splitlines()
            return json.loads(lines[-1])["note"]
        text = path.read_text()
        return json.loads(text)["note"] if text.lstrip().startswith("{") else text
    except (OSError, ValueError, LookupError, TypeError) as error:
        raise InvalidInput(f"{path} holds no checkpoint: {error}", field="since_checkpoint") from error


def _read_entry_lines(handle: Any, verifier: Verifier) -> Iterator[bytes]:
    for number, line in enumerate(handle):
        leaf = _leaf_as_exported(line, number)
        if leaf is not None:
            yield leaf  # the verifier parses it and checks it is canonical
            continue
        try:
            value = json.loads(line)
            if not isinstance(value, dict) or set(value) != {"entry", "index"}:
                raise ValueError("a line is {\"entry\": ..., \"index\": n}")
            if value["index"] != number:
                verifier.fail(number, "order", f"line {number + 1} says index {value['index']}")
            yield canonical_bytes(value["entry"])
        except (ValueError, LedgerError) as error:
            verifier.fail(number, "entry", f"line {number + 1} is not an entry line: {error}")
            yield line.rstrip(b"\n")


def _leaf_as_exported(line: bytes, number: int) -> bytes | None:
    """The leaf bytes of a line exactly as `export_bundle` writes it, without re-encoding.

    Any other shape (a reformatted line, a wrong index) returns None and takes the slow path,
    which parses the line, reports what is wrong and re-encodes the entry canonically."""
    suffix = b',"index":%d}\n' % number
    if line.startswith(b'{"entry":{') and line.endswith(suffix):
        return line[9:-len(suffix)]
    return None


def _read_checkpoint_lines(path: Path, verifier: Verifier):
    """A coroutine: send it the number of entries fed so far; it checks checkpoints at that size,
    and at the end (send None) reports checkpoints beyond the entries."""
    generator = _checkpoint_checker(path, verifier)
    next(generator)
    return generator


def _checkpoint_rows(handle, verifier: Verifier):
    """Checkpoint lines; a damaged line is reported, never crashed on."""
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("tree_size"), int) or not isinstance(
                    row.get("note"), str) or not isinstance(row.get("consistency_proof", []), list):
                raise ValueError("needs an integer tree_size, a note and a consistency_proof list")
            yield row
        except ValueError as error:
            verifier.fail(None, "checkpoint", f"checkpoints.jsonl line {number} is damaged: {error}")


def _checkpoint_checker(path: Path, verifier: Verifier):
    previous: tuple[int, bytes] | None = None
    with path.open() as handle:
        rows = _checkpoint_rows(handle, verifier)
        pending = next(rows, None)
        while True:
            fed = yield
            if fed is None:
                break
            while pending is not None and pending["tree_size"] <= fed:
                if pending["tree_size"] < fed:
                    verifier.fail(None, "checkpoint", f"checkpoint {pending['tree_size']} out of order")
                else:
                    try:
                        proof = [base64.b64decode(node, validate=True) for node in pending.get("consistency_proof", [])]
                    except (ValueError, TypeError):
                        verifier.fail(fed - 1, "consistency", f"consistency proof of checkpoint {fed} is not base64")
                        proof = []
                    root = verifier.check_checkpoint(pending["note"], fed, previous,
                                                     proof if previous else None, pending.get("root"))
                    if root is not None:
                        previous = (fed, root)
                pending = next(rows, None)
        while pending is not None:
            verifier.fail(None, "checkpoint", f"checkpoint signed for size {pending['tree_size']} but "
                          f"the log holds {verifier.report.entries} entries (entries removed or truncated)")
            pending = next(rows, None)
        covered = previous[0] if previous else 0
        if verifier.report.entries > covered:
            verifier.fail(covered, "checkpoint", f"entries {covered}..{verifier.report.entries - 1} are not "
                          "covered by any signed checkpoint (appended outside the ledger?)")
        yield


def _check_organisations(path: Path, verifier: Verifier) -> None:
    try:
        listed = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        verifier.fail(None, "organisations", f"organisations.json unreadable: {error}")
        return
    if listed != organisations_json(verifier):
        verifier.fail(None, "organisations", "organisations.json disagrees with the keys replayed "
                      "from the log")
