"""A child that handles SIGTERM to finish its loop, then re-raises it
(as uvicorn does), so it still dies of the signal."""

import signal
import time

running = True
received = []


def handle(n):
    return n * 2


def on_sigterm(signum, frame):
    global running
    running = False
    received.append(signum)


def main():
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    total = 0
    for i in range(3):
        total += handle(i)
    print("READY", total, flush=True)
    while running:
        time.sleep(0.05)
    signal.signal(signal.SIGTERM, previous)
    for signum in received:
        signal.raise_signal(signum)


if __name__ == "__main__":
    main()
