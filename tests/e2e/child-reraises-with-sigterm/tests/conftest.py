import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().startswith("READY")
    yield process
    process.terminate()
    process.wait()

