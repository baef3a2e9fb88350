"""A child that handles SIGTERM itself."""

import os
import signal
import sys
import time


def handle(n):
    return n * 2


def on_sigterm(signum, frame):
    sys.exit(0)


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    total = 0
    for i in range(3):
        total += handle(i)
    print("READY", total, flush=True)
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main()
