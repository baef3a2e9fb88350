import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import command_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py")],
        stdout=subprocess.PIPE,
        text=True,
        env=command_env(),
    )
    assert process.stdout.readline().startswith("READY")
    yield process
    process.terminate()
    process.wait()

