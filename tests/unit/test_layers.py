"""Import rules from DESIGN.md: core imports no outer layer; only core/ari imports asyncari; core/routing does
no I/O; the console does not import core; the product never imports the test tooling.

The rules are import-linter contracts in pyproject.toml ([tool.importlinter]); each is checked here exactly as
`make lint` checks them (`lint-imports`). What import-linter cannot see is checked directly: which packages
`pip install .` ships (all of them under the contracts, the test tooling not among them)."""

import subprocess
import sys
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LINTER = PYPROJECT["tool"]["importlinter"]
CONTRACTS = {c["id"]: c for c in LINTER["contracts"]}
PRODUCT = {"core", "console", "bot", "pbx", "asterisk"}
TEST_TOOLING = "pbxtest"
# lint-imports itself (its console script), run with this interpreter
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


@pytest.mark.parametrize("contract", sorted(CONTRACTS))
def test_layer_contract_is_kept(contract):
    run = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "--no-logo", "--contract", contract],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"{CONTRACTS[contract]['name']}\n{run.stdout}\n{run.stderr}"


def test_the_contracts_say_what_design_md_says():
    """The rules cannot be loosened in pyproject.toml without this test noticing."""
    assert set(LINTER["root_packages"]) == PRODUCT | {TEST_TOOLING}
    assert LINTER["include_external_packages"] is True  # else the rules on asyncari, tortoise... see nothing

    def forbidden(contract_id: str) -> tuple[set[str], set[str]]:
        c = CONTRACTS[contract_id]
        assert c["type"] == "forbidden"
        return set(c["source_modules"]), set(c["forbidden_modules"])

    assert forbidden("core-no-adapters") == ({"core"}, {"console", "bot", "asterisk", "pbx", TEST_TOOLING})
    assert forbidden("asyncari-only-in-core-ari") == (PRODUCT | {TEST_TOOLING}, {"asyncari"})
    assert CONTRACTS["asyncari-only-in-core-ari"]["ignore_imports"] == ["core.ari.** -> asyncari"]
    sources, io = forbidden("routing-no-io")
    assert sources == {"core.routing"} and {"tortoise", "asyncari", "httpx", "aiohttp", "sqlite3"} <= io
    assert {"socket", "asyncio", "subprocess"} <= io
    assert not CONTRACTS["routing-no-io"].get("allow_indirect_imports", False)
    assert forbidden("calls-no-orm") == ({"core.calls"}, {"core.models", "tortoise"})
    assert forbidden("console-no-core") == ({"console"}, {"core"})
    assert forbidden("product-no-test-tooling") == (PRODUCT, {TEST_TOOLING})
    assert forbidden("internal-lookups-not-for-adapters") == (
        {"core.api", "pbx", "console", "bot"},
        {"core.services.internal", "core.services.call_lookups"},
    )


def _shipped(name: str) -> bool:
    """Whether `pip install .` installs the package `name` ([tool.setuptools.packages.find])."""
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    included = any(fnmatchcase(name, p) for p in find["include"])
    return included and not any(fnmatchcase(name, p) for p in find.get("exclude", []))


def test_every_installed_package_is_under_the_layer_rules_and_the_test_tooling_is_not_installed():
    top_level = {d.name for d in ROOT.iterdir() if d.is_dir() and d.name.isidentifier() and _shipped(d.name)}
    assert top_level == PRODUCT
    assert (ROOT / TEST_TOOLING).is_dir()
    assert not _shipped(TEST_TOOLING) and not _shipped(f"{TEST_TOOLING}.sipp")


def test_the_sipp_harness_is_not_in_the_asterisk_package():
    assert not [p.name for p in (ROOT / "asterisk").rglob("*") if "sipp" in p.name or "rtp_pcap" in p.name]
    package_data = PYPROJECT["tool"]["setuptools"]["package-data"]
    assert not [p for patterns in package_data.values() for p in patterns if "sipp" in p]
