"""Every row the application locks is locked FOR NO KEY UPDATE (rapport.audit.chain, "Locks").

A row inserted while the audit chain's append lock is held checks its foreign keys when its
transaction commits (Django's foreign keys are deferred), taking FOR KEY SHARE on the rows it
refers to. FOR UPDATE refuses that, FOR NO KEY UPDATE does not: a transaction holding a row FOR
UPDATE and then appending to the trail could wait for an answer's commit that waits for it.
The concurrent case itself is tests/concurrency/test_duplicates.py; this holds the rule over
every lock written since.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import rapport

CODE = Path(rapport.__file__).parent
# A call of select_for_update, up to its closing parenthesis (no nested calls in its arguments).
CALL = re.compile(r"select_for_update\(([^()]*)\)")
RAW = re.compile(r"FOR\s+UPDATE", re.IGNORECASE)  # not FOR NO KEY UPDATE


def _sources():
    for path in sorted(CODE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_every_select_for_update_takes_no_key_locks():
    found = [(path, m.group(0)) for path, text in _sources() for m in CALL.finditer(text)]
    assert len(found) >= 15  # the search finds the calls
    bare = [f"{path.relative_to(CODE)}: {call}" for path, call in found
            if "no_key=True" not in call]
    assert bare == []


def _sql_strings(text: str):
    """The string literals of a module but its docstrings (its SQL among them), with lines."""
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings):
            yield node.lineno, node.value


def test_no_statement_locks_rows_for_update():
    statements = [(path, line, value) for path, text in _sources()
                  for line, value in _sql_strings(text)]
    assert any("NO KEY UPDATE" in value for _, _, value in statements)  # it reads the SQL
    raw = [f"{path.relative_to(CODE)}:{line}" for path, line, value in statements
           if RAW.search(value)]
    assert raw == []
