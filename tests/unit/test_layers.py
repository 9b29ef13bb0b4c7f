"""Import rules from DESIGN.md: core imports no outer layer; only core/ari imports asyncari."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted((ROOT / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_core_imports_no_outer_layer(path):
    assert not imports_of(path) & {"console", "bot", "asterisk", "pbx"}


def test_only_core_ari_imports_asyncari():
    offenders = [
        str(p.relative_to(ROOT))
        for top in ("core", "console", "bot", "asterisk", "pbx")
        for p in (ROOT / top).rglob("*.py")
        if "asyncari" in imports_of(p) and not p.is_relative_to(ROOT / "core" / "ari")
    ]
    assert offenders == []
