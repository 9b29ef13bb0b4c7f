"""`pbx asterisk cli` shows whatever bytes Asterisk prints (a name cut in the middle of a UTF-8 character,
Latin-1 from a hand-edited config) instead of failing with a UnicodeDecodeError.

The process boundary is the claim here, so the `asterisk -rx` that answers is a small program printing
such bytes, run exactly as the instance runs Asterisk's binary (no Asterisk is needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from asterisk.installer import AsteriskDist
from asterisk.instance import AsteriskInstance

PRINTS_BAD_BYTES = "import sys; sys.stdout.buffer.write(b'Endpoint: 7777/Caf\\xe9 \\xc3\\n')"


def test_asterisk_cli_output_that_is_not_utf8_is_shown_not_fatal(tmp_path: Path):
    fake = tmp_path / "asterisk"
    fake.write_text(f"#!{sys.executable}\n{PRINTS_BAD_BYTES}\n")
    fake.chmod(0o755)
    dist = AsteriskDist([str(fake)], str(tmp_path), str(tmp_path), "22.0.0", "system", str(tmp_path))
    inst = AsteriskInstance(dist, tmp_path / "inst", ari_password="secret-for-test")
    inst.etc_dir.mkdir(parents=True)
    # "running": a live process whose command line names this instance's config, as Asterisk's would
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-C", str(inst.conf_path)])
    try:
        inst.pid_path.parent.mkdir(parents=True, exist_ok=True)
        inst.pid_path.write_text(str(alive.pid))
        assert inst.is_running()
        assert inst.cli("pjsip show endpoint 7777") == "Endpoint: 7777/Caf\ufffd \ufffd\n"
    finally:
        alive.kill()
        alive.wait()
