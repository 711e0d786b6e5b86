"""The README's layer table says what the import contracts enforce (pyproject.toml): the same
layers, in the same order, with the same siblings side by side."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _contract_layers() -> list[set[str]]:
    """The layers contract's layers, bottom up, each a set of top-level names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c["layers"] for c in config["tool"]["importlinter"]["contracts"]
                 if c["type"] == "layers"]
    return [{m.strip().removeprefix("rapport.") for m in layer.split("|")} for layer in reversed(layers)]


def _readme_layers(text: str) -> list[set[str]]:
    """The README table's layers, bottom up: a row's first cell lists layers joined by "then",
    siblings joined by "\\|"."""
    table = text[text.index("| Layer | What it holds |"):]
    table = table[:table.index("\n\n")]
    found = []
    for row in table.splitlines()[2:]:
        cell = row.strip().removeprefix("|").split(" | ")[0]
        for layer in cell.split(", then "):
            found.append(set(re.findall(r"`([a-z_]+)`", layer)))
    return found


def test_the_readme_layer_table_matches_the_contract():
    readme = _readme_layers((ROOT / "README.md").read_text(encoding="utf-8"))
    assert readme == _contract_layers()


def test_the_table_reader_sees_order_and_siblings():
    text = ("| Layer | What it holds |\n| --- | --- |\n| `a`, then `b` | x |\n"
            "| `c` \\| `d` | y |\n\nafter")
    assert _readme_layers(text) == [{"a"}, {"b"}, {"c", "d"}]


def test_every_module_of_the_package_is_placed_by_a_contract():
    """A new app or top-level module must take its place in the layers (or be a settings module,
    which no code imports): otherwise the contracts would not see it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (settings,) = [c["forbidden_modules"] for c in contracts if c["name"].startswith("Settings")]
    (cores,) = [c for c in contracts if c["name"].startswith("The two cores")]
    placed = set().union(*_contract_layers()) | {m.removeprefix("rapport.") for m in settings}
    package = ROOT / "rapport"
    found = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    found |= {p.parent.name for p in package.glob("*/__init__.py")}
    assert found == placed
    layers = set().union(*_contract_layers()) - {"instruments", "monitoring"}
    assert {m.removeprefix("rapport.") for m in cores["forbidden_modules"]} >= layers | {
        m.removeprefix("rapport.") for m in settings}
