"""The command line's refusals are named errors of the public bases, and the exit code follows the
base: 2 for a refused request (bad input, a conflict, a refusal by a server), 3 for what an
operator must fix (configuration, a server that cannot be reached)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from api import problems
from cli import common
from cli.main import main
from ledger import errors

ROOT = Path(__file__).resolve().parents[2]


def bare_ledger_errors(folder: str) -> list[str]:
    """Every `LedgerError(...)` call in a folder: an error that does not say what kind it is."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), name)):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] == "LedgerError":
                found.append(f"{name}:{node.lineno}")
    return found


@pytest.mark.parametrize("folder", ["cli", "api", "ledger", "projections"])
def test_no_command_route_or_check_raises_a_bare_ledger_error(folder):
    assert bare_ledger_errors(folder) == []


@pytest.mark.parametrize("status", sorted(set(problems.STATUS_BY_BASE.values()) - {500, 503}))
def test_a_servers_refusal_keeps_its_base_and_code(status):
    refused = common.server_refusal(status, "detail", "some-code", field="payload.x")
    assert problems.status_of(refused) == status
    assert (refused.code, str(refused)) == ("some-code", "payload.x: detail")


def test_a_server_that_fails_is_a_set_up_problem_not_a_refusal():
    failed = common.server_refusal(503, "views behind", "views-behind")
    assert isinstance(failed, common.ServerUnavailable) and failed.code == "views-behind"


def test_an_unreachable_server_exits_3_in_one_line(tmp_path, capsys):
    code = main(["--home", str(tmp_path), "award", "preview", "2025", "--url", "http://127.0.0.1:9"])
    stderr = capsys.readouterr().err
    assert code == 3 and "cannot reach http://127.0.0.1:9" in stderr and stderr.count("\n") == 1


def test_a_witness_configuration_that_cannot_be_read_exits_3(tmp_path, capsys):
    config = tmp_path / "witness.json"
    config.write_text(json.dumps({"name": "has space", "key": "k", "logs": []}))
    code = main(["witness", "serve", "--config", str(config), "--no-passphrase"])
    stderr = capsys.readouterr().err
    assert code == 3 and "not a witness configuration" in stderr and "refused" not in stderr


def test_a_witness_is_never_written_over_and_that_is_a_refusal(tmp_path, capsys):
    (tmp_path / "witness.json").write_text("{}")
    code = main(["witness", "init", str(tmp_path), "--name", "w", "--log-key", "x", "--no-passphrase"])
    stderr = capsys.readouterr().err
    assert code == 2 and "refused (file-exists)" in stderr and (tmp_path / "witness.json").read_text() == "{}"


EXIT_BY_ERROR = [
    (errors.InvalidInput("bad", field="file"), 2), (errors.UnknownKey("who"), 2), (errors.NotFound("none"), 2),
    (errors.IdempotencyConflict("used"), 2), (errors.LogBusy("later"), 2), (errors.Unauthenticated("token"), 2),
    (errors.RuleViolation("rule"), 2), (errors.ConfigurationError("setting"), 3), (errors.KeyFileError("key"), 3),
    (errors.LedgerNotInitialised("init"), 3), (common.ServerUnavailable("down"), 3),
]


@pytest.mark.parametrize(("error", "exit_code"), EXIT_BY_ERROR, ids=[type(e).__name__ for e, _ in EXIT_BY_ERROR])
def test_the_exit_code_follows_the_base(monkeypatch, capsys, error, exit_code):
    import argparse

    def raising(arguments):
        raise error

    parser = argparse.ArgumentParser(prog="amanah")
    parser.set_defaults(handler=raising)
    monkeypatch.setattr("cli.main.build_parser", lambda: parser)
    assert main([]) == exit_code
    stderr = capsys.readouterr().err
    assert stderr.startswith("amanah: ") and str(error) in stderr and stderr.count("\n") == 1
    assert (f"refused ({error.code})" in stderr) == (exit_code == 2)
