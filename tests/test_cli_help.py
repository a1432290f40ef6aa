"""Every command-line tool in pyscripts/ answers ``--help`` with its usage and status 0 (run in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.scripts import load_script

PYSCRIPTS = Path(__file__).resolve().parents[1] / "pyscripts"
TOOLS = sorted(p.stem for p in PYSCRIPTS.glob("*.py"))


@pytest.mark.parametrize("name", TOOLS)
def test_help_prints_usage_and_exits_0(name, capsys):
    module = load_script(f"pyscripts/{name}.py")
    try:
        status = module.main(["--help"])
    except SystemExit as e:  # argparse exits after printing the help
        status = e.code
    assert status in (0, None)
    assert "usage" in capsys.readouterr().out.lower()
