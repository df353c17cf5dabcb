"""Parameterised SQL everywhere: no value is ever formatted into a statement.

Statements in the stores may interpolate only constants (column lists, a
placeholder list, the schema version); values travel as parameters.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from faqtual.store.logs import LoggedQuery
from faqtual.store.sqlite import SqliteStore

STORE = Path(__file__).resolve().parents[1] / "faqtual" / "store"
#: Names a statement may interpolate: module constants, or "?,?,?" built from a count.
ALLOWED = {"_LOG_COLUMNS", "_ENTRY_COLUMNS", "SCHEMA_VERSION", "marks"}


def _statements(tree: ast.AST) -> list[ast.expr]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in {"execute", "executemany", "executescript"}:
                found.append(node.args[0])
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in STORE.glob("*.py")))
def test_statements_interpolate_only_constants(module: str) -> None:
    tree = ast.parse((STORE / module).read_text(encoding="utf-8"))
    for statement in _statements(tree):
        where = f"{module}:{statement.lineno}"
        assert not isinstance(statement, ast.BinOp), f"{where}: SQL built with + or %"
        if isinstance(statement, ast.Call) and isinstance(statement.func, ast.Attribute):
            assert statement.func.attr != "format" or "sql" in ast.unparse(statement.func), f"{where}: str.format"
        for value in ast.walk(statement):
            if isinstance(value, ast.FormattedValue):
                names = {n.id for n in ast.walk(value.value) if isinstance(n, ast.Name)}
                assert names <= ALLOWED, f"{where}: interpolates {names - ALLOWED}"


def test_quotes_and_sql_in_a_logged_question_are_stored_verbatim(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "kb.sqlite", create=True)
    nasty = "'); DROP TABLE entries; -- \" OR 1=1 --"
    store.log_query(LoggedQuery("q1", 1.0, nasty, False, None, 0.0, 0))
    logged = store.logged_query("q1")
    assert logged is not None and logged.question == nasty
    assert store.snapshot().version == 0  # the entries table is still there
    store.close()
