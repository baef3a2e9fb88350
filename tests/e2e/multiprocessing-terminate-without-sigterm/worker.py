"""A worker run by multiprocessing."""

import time


def handle(n):
    return n * 2


def serve(ready):
    total = 0
    for i in range(3):
        total += handle(i)
    ready.set()
    while True:
        time.sleep(0.05)
