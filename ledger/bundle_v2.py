"""Bundle format 2's entries.jsonl: each submission of 2+ envelopes written once, its lines
carrying only what differs; the exact leaf bytes are rebuilt from them (docs/verifying.md, "The
bundle, format 2"). The same `rebuild` serves the exporter (which writes a submission this way
only when it rebuilds every leaf byte for byte) and the verifier.

Three kinds of line, each the JCS bytes of an object:
    {"entry":<entry object>,"index":n}                      an entry written whole (as format 1)
    {"submission":{"batch":{"root","size"},"envelope":{"actor","idempotency_key","key_id","ledger"},
                   "recorded_at","signature"}}              what the next `size` lines share
    {"envelope":{"occurred_at","payload","sequence","type"},"index":n}   one envelope of it
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ledger import merkle
from ledger.batch_tree import path_text, tree_levels
from ledger.canonical import canonical_bytes_checked_domain

FORMAT_2 = "amanah-bundle/2"
SHARED_ENVELOPE_MEMBERS = ("actor", "idempotency_key", "key_id", "ledger")
LINE_ENVELOPE_MEMBERS = ("occurred_at", "payload", "sequence", "type")
SUBMISSION_MEMBERS = {"batch", "envelope", "recorded_at", "signature"}
ENTRY_PREFIX, SUBMISSION_PREFIX, ENVELOPE_PREFIX = b'{"entry":{', b'{"submission":{', b'{"envelope":{'
CHUNK_ENTRIES = 2000


@dataclass(slots=True)
class Rebuilt:
    """One entry rebuilt from its line: the leaf bytes, failures found in the lines themselves,
    and, when the verifier computed the batch root itself from exactly `size` lines, that root
    and the line's place (the audit path is not walked; the root must be the signed one)."""

    leaf: bytes
    failures: list[tuple[str, str]] = field(default_factory=list)
    known_root: tuple[bytes, int] | None = None
    # For a line read as written: (start, end) of the envelope's bytes in the leaf, the index,
    # recorded_at, signature and {"root", "size"}, so the envelope alone need be parsed.
    parts: tuple | None = None


@dataclass(slots=True)
class Group:
    """A run of lines that rebuild together: one entry line, or a submission record and the
    envelope lines after it, or one envelope line with no record before it."""

    record: bytes | None
    lines: list[bytes]

    @property
    def entries(self) -> int:
        return len(self.lines)


def groups(lines: Iterable[bytes]) -> Iterator[Group]:
    """The lines of a format-2 entries.jsonl, grouped by what they are (nothing is parsed)."""
    current: Group | None = None
    for line in lines:
        kind = _kind(line)
        if kind == "submission":
            if current is not None:
                yield current
            current = Group(line, [])
        elif kind == "envelope" and current is not None and current.record is not None:
            current.lines.append(line)
        else:
            if current is not None:
                yield current
            current = None
            yield Group(None, [line])
    if current is not None:
        yield current


def _kind(line: bytes) -> str:
    """Which kind of line this is: by its first bytes as written, else by its parsed members
    (a line reformatted with other whitespace is read as what it says)."""
    for kind, prefix in (("entry", ENTRY_PREFIX), ("envelope", ENVELOPE_PREFIX), ("submission", SUBMISSION_PREFIX)):
        if line.startswith(prefix):
            return kind
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return "other"
    names = set(value) if isinstance(value, dict) else set()
    return "submission" if names == {"submission"} else "envelope" if "envelope" in names else "other"


def chunks(lines: Iterable[bytes], size: int = CHUNK_ENTRIES) -> Iterator[tuple[int, list[Group]]]:
    """(first position, groups) of about `size` entries each; a submission is never split."""
    position, pending, count = 0, [], 0
    for group in groups(lines):
        pending.append(group)
        count += group.entries
        if count >= size:
            yield position, pending
            position, pending, count = position + count, [], 0
    if pending:
        yield position, pending


def rebuild_chunk(start: int, chunk: list[Group]) -> tuple[list[Rebuilt], list[tuple[int | None, str, str]]]:
    """Every entry of the chunk rebuilt, in order, and failures that name no entry of it (a
    submission record with no line after it, at the end of the chunk)."""
    leftover: list[tuple[int | None, str, str]] = []
    return list(rebuilt_one_by_one(start, chunk, leftover)), leftover


def rebuilt_one_by_one(start: int, chunk: list[Group], leftover: list) -> Iterator[Rebuilt]:
    """`rebuild_chunk`'s entries one at a time, each leaf built when it is asked for (a chunk may
    hold a 20,000-line submission: its leaves need not all be held at once); `leftover` gets the
    failures that name no entry once the iterator is exhausted."""
    count = 0
    waiting: list[tuple[str, str]] = []  # failures of an empty group, given to the next entry
    for group in chunk:
        entries = _rebuilt(start + count, group)
        first = next(entries, None)
        if first is None:
            waiting.append(("batch", "a submission record with no envelope line after it (its lines "
                            "were removed, or the record was duplicated)"))
            continue
        first.failures[:0] = waiting
        waiting = []
        for entry in itertools.chain((first,), entries):
            count += 1
            yield entry
    leftover.extend((start + count if count or start else None, check, detail) for check, detail in waiting)


def rebuild(position: int, group: Group) -> list[Rebuilt]:
    """The entries of one group, the first at `position`."""
    return list(_rebuilt(position, group))


def _rebuilt(position: int, group: Group) -> Iterator[Rebuilt]:
    if group.record is None:
        yield _whole_entry(position, group.lines[0])
        return
    if not group.lines:
        return
    shared, problem = _submission(group.record)
    envelopes = [_envelope_line(position + offset, line) for offset, line in enumerate(group.lines)]
    if shared is None:
        for line in group.lines:
            yield Rebuilt(line.rstrip(b"\n"), [("entry", f"the submission record before entry {position} "
                                                f"is not one: {problem}")])
        return
    yield from _submission_entries(position, shared, envelopes)


def _whole_entry(position: int, line: bytes) -> Rebuilt:
    suffix = b',"index":%d}\n' % position
    if line.startswith(ENTRY_PREFIX) and line.endswith(suffix):
        return Rebuilt(line[9:-len(suffix)])
    if _kind(line) == "envelope":
        return Rebuilt(line.rstrip(b"\n"), [("entry", "an envelope line with no submission record before "
                                             "it (the record was removed, or the line moved)")])
    try:
        value = json.loads(line)
        if not isinstance(value, dict) or set(value) != {"entry", "index"}:
            raise ValueError('an entry line is {"entry": ..., "index": n}')
        failures = [] if value["index"] == position else [("order", f"the line says index {value['index']}")]
        return Rebuilt(canonical_bytes_checked_domain(value["entry"]), failures)
    except (ValueError, TypeError, RecursionError) as error:
        return Rebuilt(line.rstrip(b"\n"), [("entry", f"not an entry line: {error}")])


@dataclass(slots=True)
class _Shared:
    envelope_prefix: bytes  # the shared members' JCS, without its closing brace
    root_text: str
    size: int
    tail: bytes  # ,"recorded_at":...,"signature":...}
    values: tuple  # recorded_at, signature, {"root": ..., "size": ...} as parsed


def _submission(line: bytes) -> tuple[_Shared | None, str]:
    try:
        value = json.loads(line)
        record = value["submission"] if isinstance(value, dict) and set(value) == {"submission"} else None
        if not isinstance(record, dict) or set(record) != SUBMISSION_MEMBERS:
            raise ValueError(f"it needs exactly the members {sorted(SUBMISSION_MEMBERS)}")
        batch, envelope = record["batch"], record["envelope"]
        if not isinstance(batch, dict) or set(batch) != {"root", "size"} or not isinstance(batch["root"], str) \
                or not isinstance(batch["size"], int) or isinstance(batch["size"], bool):
            raise ValueError("batch must be {root: base64, size: n}")
        if not isinstance(envelope, dict) or tuple(sorted(envelope)) != SHARED_ENVELOPE_MEMBERS:
            raise ValueError(f"envelope must hold exactly {', '.join(SHARED_ENVELOPE_MEMBERS)}")
        encoded = canonical_bytes_checked_domain
        tail = b',"recorded_at":' + encoded(record["recorded_at"]) + b',"signature":' + encoded(record["signature"]) + b"}"
        values = (record["recorded_at"], record["signature"], {"root": batch["root"], "size": batch["size"]})
        return _Shared(encoded(envelope)[:-1] + b",", batch["root"], batch["size"], tail, values), ""
    except (ValueError, TypeError, RecursionError) as error:
        return None, str(error)


def _envelope_line(position: int, line: bytes) -> tuple[bytes, bytes, list[tuple[str, str]]]:
    """(the line's envelope members as JCS, the entry's index as JSON, failures) of one line."""
    suffix = b',"index":%d}\n' % position
    if line.startswith(ENVELOPE_PREFIX) and line.endswith(suffix):
        return line[12:-len(suffix)], b"%d" % position, []
    try:
        value = json.loads(line)
        if not isinstance(value, dict) or set(value) != {"envelope", "index"} or not isinstance(value["envelope"], dict) \
                or tuple(sorted(value["envelope"])) != LINE_ENVELOPE_MEMBERS:
            raise ValueError(f'an envelope line is {{"envelope": {{{", ".join(LINE_ENVELOPE_MEMBERS)}}}, "index": n}}')
        index = canonical_bytes_checked_domain(value["index"])
        return canonical_bytes_checked_domain(value["envelope"]), index, []
    except (ValueError, TypeError, RecursionError) as error:
        return b"{}", b"%d" % position, [("entry", f"not an envelope line: {error}")]


def _submission_entries(position: int, shared: _Shared, envelopes: list) -> Iterator[Rebuilt]:
    """Each line's leaf: the envelope is the record's members and the line's (JCS sorts every
    shared member before every line member, so the bytes join), the audit path is the line's
    in the tree of the envelopes as they stand, in line order. Built one leaf at a time."""
    envelope_bytes = [shared.envelope_prefix + own[1:] for own, _, _ in envelopes]
    root, levels = tree_levels([merkle.leaf_hash(envelope) for envelope in envelope_bytes])
    head = b'{"batch":{"path":['
    middle = b'],"root":' + canonical_bytes_checked_domain(shared.root_text) + b',"size":%d},"envelope":' % shared.size
    known = len(envelopes) == shared.size
    for offset, ((_, index, failures), envelope) in enumerate(zip(envelopes, envelope_bytes)):
        path = path_text(levels, offset)
        leaf = b"".join((head, path, middle, envelope, b',"index":', index, shared.tail))
        entry = Rebuilt(leaf, failures, (root, offset) if known and not failures else None)
        if not failures and index == b"%d" % (position + offset):
            start = len(head) + len(path) + len(middle)
            entry.parts = (start, start + len(envelope), position + offset, *shared.values)
        if offset == 0 and not known:
            entry.failures.append(("batch", f"the submission record states {shared.size} envelopes but "
                                   f"{len(envelopes)} lines follow it"))
        yield entry


# ---- writing ----------------------------------------------------------------------------


def entry_line(index: int, leaf: bytes) -> bytes:
    """An entry written whole, as in format 1."""
    return b'{"entry":' + leaf + b',"index":%d}\n' % index


def lines_of(leaves: Iterable[tuple[int, bytes]]) -> Iterator[bytes]:
    """The format-2 lines of (index, leaf) pairs in log order: each run of entries that share a
    submission record is written as that record and its envelope lines, whenever they rebuild
    every leaf byte for byte; anything else (a single envelope, a damaged batch) whole."""
    run: list[tuple[int, bytes, dict]] = []
    for index, leaf in leaves:
        value = _parsed(leaf) if leaf.startswith(b'{"batch":') else None
        record = _record_of(value)
        if run and (record is None or record != _record_of(run[0][2]) or len(run) == record["batch"]["size"]):
            yield from _written(run)
            run = []
        if record is None:
            yield entry_line(index, leaf)
        else:
            run.append((index, leaf, value))
    yield from _written(run)


def _parsed(leaf: bytes) -> dict | None:
    try:
        return json.loads(leaf)
    except (ValueError, RecursionError):
        return None  # not JSON: written whole, for the verifier to report


def _record_of(value: dict | None) -> dict | None:
    try:
        envelope = value["envelope"]
        return {"batch": {"root": value["batch"]["root"], "size": value["batch"]["size"]},
                "envelope": {name: envelope[name] for name in SHARED_ENVELOPE_MEMBERS},
                "recorded_at": value["recorded_at"], "signature": value["signature"]}
    except (KeyError, TypeError):
        return None


def _written(run: list[tuple[int, bytes, dict]]) -> list[bytes]:
    if not run:
        return []
    try:
        record = canonical_bytes_checked_domain({"submission": _record_of(run[0][2])}) + b"\n"
        lines = [canonical_bytes_checked_domain({"envelope": {name: value["envelope"][name] for name in
                                                              LINE_ENVELOPE_MEMBERS}, "index": index}) + b"\n"
                 for index, _, value in run]
        rebuilt = rebuild(run[0][0], Group(record, lines))
        if all(not entry.failures and entry.leaf == leaf for entry, (_, leaf, _) in zip(rebuilt, run, strict=True)):
            return [record, *lines]
    except (KeyError, TypeError, ValueError):
        pass
    return [entry_line(index, leaf) for index, leaf, _ in run]
