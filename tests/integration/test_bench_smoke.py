"""The benchmark keeps working (its figures are read in README, not asserted here)."""

import pytest

from bench.call_setup import main

pytestmark = pytest.mark.integration


async def test_call_setup_benchmark_runs_both_paths(capsys):
    ratio = await main(calls=3, rounds=1, rate=10)
    out = capsys.readouterr().out
    assert "Stasis app (pbx)" in out and "dialplan Dial() (baseline)" in out
    assert ratio > 0
