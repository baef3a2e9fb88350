"""Shutdown handling shared by the project's services."""

import signal
import sys


def _stop(signum, frame):
    sys.exit(0)


def install():
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
