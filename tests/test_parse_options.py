"""utils/parse_options.sh: declared variables become --options; booleans checked; --help lists them."""

from __future__ import annotations

import subprocess


def _script(tmp_path, repo_root):
    s = tmp_path / "s.sh"
    s.write_text(f"""#!/usr/bin/env bash
set -euo pipefail
nj=4
use_gpu=false
mfcc_config=conf/mfcc.conf
help_message="Usage: s.sh [options] <dir>"
. {repo_root}/utils/parse_options.sh
echo "$nj $use_gpu $mfcc_config $#:${{1:-}}"
""")
    return s


def test_options(tmp_path, repo_root):
    s = _script(tmp_path, repo_root)
    out = subprocess.run(["bash", s, "--nj", "8", "--use-gpu=true", "--mfcc-config", "a b", "dir"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "8 true a b 1:dir"


def test_errors_and_help(tmp_path, repo_root):
    s = _script(tmp_path, repo_root)
    bad = subprocess.run(["bash", s, "--use-gpu", "yes"], capture_output=True, text=True)
    assert bad.returncode != 0 and "true or false" in bad.stderr
    unknown = subprocess.run(["bash", s, "--no-such", "1"], capture_output=True, text=True)
    assert unknown.returncode != 0 and "invalid option --no-such" in unknown.stderr
    helped = subprocess.run(["bash", s, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "Usage: s.sh" in helped.stderr and "--mfcc-config" in helped.stderr


def test_config_file(tmp_path, repo_root):
    s = _script(tmp_path, repo_root)
    (tmp_path / "c.sh").write_text("nj=16\n")
    out = subprocess.run(["bash", s, "--config", str(tmp_path / "c.sh"), "--use-gpu", "true"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("16 true")
