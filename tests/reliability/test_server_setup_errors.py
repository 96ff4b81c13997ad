"""Set-up problems with the database say in one line what to do, with exit code 3 (the README's
code for set-up problems), through the real command: a schema that does not exist is created when
the role may, and otherwise named with the statement to run; an unreachable server, an unknown
role or database, and a server that cannot start say so."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest

from tests.conftest import POSTGRES_URL
from tests.reliability.support import REPOSITORY, environment

pytestmark = pytest.mark.postgres
HOST = POSTGRES_URL.split("@", 1)[1].split("/", 1)[0]  # 127.0.0.1:5432


def _amanah(arguments: list[str], database_url: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *arguments], env=environment(tmp_path, database_url),
                          cwd=REPOSITORY, capture_output=True, text=True, timeout=120)


def _one_line_setup_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.fixture
def schema_name():
    name = f"newcomer_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_a_schema_that_does_not_exist_is_created_when_the_role_may(schema_name, tmp_path):
    result = _amanah(["projections", "run"], f"{POSTGRES_URL}?schema={schema_name}", tmp_path)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(POSTGRES_URL) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema_name])}
    assert {"amanah_events", "log_checkpoints"} <= tables


def test_a_schema_the_role_may_not_create_is_named_with_what_to_run(schema_name, tmp_path):
    role = f"limited_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE ROLE "{role}" LOGIN')
        connection.execute(f'REVOKE CREATE ON DATABASE test FROM "{role}"')
    try:
        result = _amanah(["projections", "run"], f"postgresql://{role}@{HOST}/test?schema={schema_name}", tmp_path)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP ROLE "{role}"')
    _one_line_setup_error(result, schema_name, "CREATE SCHEMA", role)


@pytest.mark.parametrize(("url", "words"), [
    ("postgresql://postgres@127.0.0.1:1/test", ["cannot connect", "127.0.0.1:1", "Connection refused"]),
    ("postgresql://nobody_at_all:secret@{host}/test", ["cannot connect", "nobody_at_all"]),
    ("postgresql://postgres@{host}/no_such_database", ["cannot connect", "no_such_database"]),
])
def test_an_unusable_database_is_one_line_and_exit_code_3(url, words, tmp_path):
    for arguments in (["projections", "run"], ["serve", "--bind", "127.0.0.1:0"]):
        _one_line_setup_error(_amanah(arguments, url.format(host=HOST), tmp_path), *words)
