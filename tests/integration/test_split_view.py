"""A dishonest operator holds the real checkpoint key, so it can rewrite history and sign
checkpoints that agree with the rewrite: such a bundle or database verifies on its own. What
catches it is a checkpoint the auditor kept from earlier (`verify --since-checkpoint FILE`):
the log must extend it, and two checkpoints for one size with different roots (a split view)
are proof of the fork. On SQLite and PostgreSQL, with the `log` fixture of the tampering tests."""

from __future__ import annotations

import json
from pathlib import Path

from ledger import merkle, note
from ledger.bundle import export_bundle, kept_checkpoint_note, verify_bundle, verify_database
from tests.integration.forgery import (
    ATTACKER, LAST, REVOCATION, SIZE, SOLO, assert_named, entries_of, explain, publish_rewritten,
)
from tests.integration.support import pledge, raw_database


def note_at(log, size: int) -> str:
    [checkpoint] = [row for row in log.ledger.checkpoints() if row["tree_size"] == size]
    return checkpoint["note"]


def rewrite(log, bundle: Path, target: Path, change) -> Path:
    """The operator's rewrite of the real export: entries changed by `change`, renumbered, and
    every checkpoint signed again with the real key at the sizes the ledger used."""
    entries = entries_of(bundle)
    change(entries)
    sizes = [row["tree_size"] for row in log.ledger.checkpoints()]
    publish_rewritten(target, entries, sizes, log.checkpoint_key, log.settings.origin)
    return target


def drop_the_pledge(entries: list) -> None:
    del entries[SOLO]


def swap_two_pledges(entries: list) -> None:
    """Entries 11 and 12 change places (keeping the times in order, as a careful forger would)."""
    first, second = entries[11], entries[12]
    entries[11] = {**second, "recorded_at": first["recorded_at"]}
    entries[12] = {**first, "recorded_at": second["recorded_at"]}


def test_a_rewrite_signed_with_the_real_key_verifies_alone_but_not_against_a_kept_checkpoint(log, bundle, tmp_path):
    forged = rewrite(log, bundle, tmp_path / "forged", drop_the_pledge)
    alone = verify_bundle(forged)
    assert alone.ok, explain(alone)  # every signature, rule and checkpoint holds: only memory helps

    # The auditor kept the checkpoint at size 5, which covered the dropped pledge.
    assert_named(verify_bundle(forged, kept_checkpoints=[note_at(log, SOLO + 1)]),
                 {(SOLO, "kept-checkpoint"), (SOLO, "split-view")})
    # The auditor kept the whole earlier export: the rewrite is one entry shorter than it.
    assert_named(verify_bundle(forged, kept_checkpoints=[kept_checkpoint_note(bundle)]),
                 {(None, "kept-checkpoint")})


def test_a_split_view_at_the_same_size_is_named(log, bundle, tmp_path):
    forged = rewrite(log, bundle, tmp_path / "forged", swap_two_pledges)
    assert verify_bundle(forged).ok
    report = verify_bundle(forged, kept_checkpoints=[note_at(log, SIZE)])
    assert_named(report, {(SIZE - 1, "kept-checkpoint"), (SIZE - 1, "split-view")})
    # Two checkpoints the auditor kept, both validly signed, same size, different roots.
    forged_note = kept_checkpoint_note(forged)
    assert_named(verify_bundle(bundle, kept_checkpoints=[note_at(log, SIZE), forged_note]),
                 {(SIZE - 1, "split-view")})


def test_a_later_export_that_extends_the_kept_one_verifies(log, bundle, tmp_path):
    log.ledger.submit(pledge(log.second, "later", "later"))
    later = tmp_path / "later"
    export_bundle(log.ledger, later)
    kept = [kept_checkpoint_note(bundle), note_at(log, SOLO + 1)]
    report = verify_bundle(later, kept_checkpoints=kept)
    assert report.ok, explain(report)
    assert verify_database(log.ledger, kept_checkpoints=kept).ok


def test_a_kept_checkpoint_must_be_signed_by_the_logs_key(log, bundle):
    origin = log.settings.origin
    stranger = note.sign_note(note.checkpoint_body(origin, SIZE, merkle.EMPTY_ROOT), origin, ATTACKER)
    assert_named(verify_bundle(bundle, kept_checkpoints=[stranger]), {(None, "kept-checkpoint")})


def test_a_kept_checkpoint_can_be_the_json_the_api_serves(log, bundle, tmp_path):
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(log.ledger.latest_checkpoint()))
    assert kept_checkpoint_note(path) == note_at(log, SIZE)
    (tmp_path / "checkpoint.txt").write_text(note_at(log, SIZE))
    assert kept_checkpoint_note(tmp_path / "checkpoint.txt") == note_at(log, SIZE)


def truncate_everything(database, size: int) -> None:
    """Cut the log back to `size` entries in every table, leaving a consistent shorter log."""
    for index in range(SIZE - 1, size - 1, -1):
        database.delete_entry(index)
    for name in ("log_nodes", "log_leaves", "log_checkpoints", "submissions"):
        database.allow_changes(name)
    pieces = database.execute(f"SELECT first_index, hashes FROM {database.table('log_leaves')} WHERE first_index < ? "
                              "ORDER BY first_index DESC LIMIT 1", (size,)).fetchall()
    database.execute(f"DELETE FROM {database.table('log_leaves')} WHERE first_index >= ?", (size,))
    for first, hashes in pieces:  # the piece that reached past the new end, cut at it
        database.execute(f"UPDATE {database.table('log_leaves')} SET hashes = ? WHERE first_index = ?",
                         (bytes(hashes)[:(size - int(first)) * 32], first))
    stale = [key for level in range(5) for position in range(SIZE >> level)
             if (position + 1) << level > size for key in [merkle.node_key(level, position)]]
    for key in stale:
        database.execute(f"DELETE FROM {database.table('log_nodes')} WHERE node_key = ?", (key,))
    database.execute(f"DELETE FROM {database.table('log_checkpoints')} WHERE tree_size > ?", (size,))
    database.execute(f"DELETE FROM {database.table('submissions')} WHERE first_index >= ?", (size,))


def test_a_database_cut_back_consistently_is_caught_only_by_a_kept_checkpoint(log):
    """Dropping the key revocation and what followed, in every table: the shorter log is
    self-consistent (and the stolen key valid again), but the auditor saw size 16."""
    kept = note_at(log, SIZE)
    with raw_database(log.settings.database_url) as database:
        truncate_everything(database, REVOCATION)
    reopened = log.reopen()
    try:
        assert reopened.size() == REVOCATION
        alone = verify_database(reopened)
        assert alone.ok, explain(alone)
        assert_named(verify_database(reopened, kept_checkpoints=[kept]), {(None, "kept-checkpoint")})
    finally:
        reopened.close()


def test_a_database_checkpoint_replaced_by_a_real_key_fork_is_a_split_view(log):
    kept = note_at(log, LAST)
    with raw_database(log.settings.database_url) as database:
        forked_root = bytes(range(32))
        forged = note.sign_note(note.checkpoint_body(log.settings.origin, LAST, forked_root), log.settings.origin,
                                log.checkpoint_key)
        database.allow_changes("log_checkpoints")
        database.execute(f"UPDATE {database.table('log_checkpoints')} SET root = ?, note = ? WHERE tree_size = ?",
                         (forked_root, forged, LAST))
    assert_named(verify_database(log.ledger, kept_checkpoints=[kept]),
                 {(LAST - 1, "checkpoint"), (LAST - 1, "split-view")})
