"""The folders are the architecture: `ledger/` (domain and log) imports only the standard
library, eventsourcing, cryptography and rfc8785 (and psycopg, in the PostgreSQL recorder that
eventsourcing's own PostgreSQL module runs on); `projections/` and `api/` import `ledger/`,
never the reverse; `projections/` never imports `api/`. The tools are outer still: `cli/` (the
command line, the demo, the importer) and `scripts/` (benchmarks, load) may import the layers,
and none of `ledger/`, `projections/` and `api/` imports them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEDGER_MAY_IMPORT = {"ledger", "eventsourcing", "cryptography", "rfc8785", "psycopg"}
TOOLS = {"cli", "scripts"}
FORBIDDEN = {
    "ledger": {"api", "projections", "flask", "flask_smorest", "marshmallow", "sqlalchemy", "gunicorn",
               "fpdf", "openpyxl"} | TOOLS,
    "projections": {"api", "flask", "flask_smorest"} | TOOLS,
    "api": TOOLS,
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.append((node.lineno, str(node.args[0].value).split(".")[0]))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_inner_layers_do_not_import_outer_ones(package):
    offenders = [f"{path.relative_to(ROOT)}:{line}: {module}"
                 for path in sorted((ROOT / package).rglob("*.py"))
                 for line, module in imported_modules(path) if module in FORBIDDEN[package]]
    assert offenders == []


def test_the_ledger_imports_only_the_standard_library_and_its_own_dependencies():
    allowed = LEDGER_MAY_IMPORT | set(sys.stdlib_module_names)
    offenders = [f"{path.relative_to(ROOT)}:{line}: {module}"
                 for path in sorted((ROOT / "ledger").rglob("*.py"))
                 for line, module in imported_modules(path) if module not in allowed]
    assert offenders == []


def test_the_check_sees_an_offending_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from api.app import create_app\n    import sqlalchemy.orm\n")
    assert imported_modules(sample) == [(2, "api"), (3, "sqlalchemy")]


# ---- the domain kernel needs no storage ---------------------------------------------------------

STORAGE = ("sqlalchemy", "psycopg", "sqlite3", "eventsourcing.persistence", "eventsourcing.application",
           "eventsourcing.sqlite", "eventsourcing.postgres")
KERNEL = ["ledger/authorisation.py", "ledger/decision.py", "ledger/event_types.py", "ledger/organisations.py",
          "ledger/entry.py", "ledger/submission.py", "ledger/personal_rules.py",
          *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "ledger" / "domain").glob("*.py"))]


def full_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every absolute import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_domain_kernel_imports_no_storage():
    assert "ledger/domain/kernel.py" in KERNEL
    offenders = [f"{name}:{line}: {module}" for name in KERNEL
                 for line, module in full_imports(ROOT / name) if module.startswith(STORAGE)]
    assert offenders == []


def test_importing_the_kernel_loads_no_database_driver_or_event_store():
    # sqlite3 is left out: ledger/errors.py (which the kernel's errors come from) still reads its
    # lock error to name a busy database.
    loaded = [name for name in STORAGE if name != "sqlite3"]
    code = f"import sys, ledger.domain.kernel; print(*[n for n in sys.modules if n.startswith({tuple(loaded)!r})])"
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.split() == []


def test_importing_the_command_line_imports_no_command_module():
    """`amanah verify`'s worker processes are spawned and import the console script, hence
    cli.main, again: it must not bring the commands, SQLAlchemy or the ledger's application into
    each of them (about a second and tens of MB a worker)."""
    code = ("import sys, cli.main; print(sorted(name for name in sys.modules if name.split('.')[0] in "
            "('sqlalchemy', 'flask', 'eventsourcing') or name in ('cli.common', 'cli.verify_commands', "
            "'ledger.application')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
