"""A child for the end-to-end tests: does some work, says READY, waits to be stopped."""

import time


def handle(n):
    return n * 2


def main():
    total = 0
    for i in range(3):
        total += handle(i)
    print("READY", total, flush=True)
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main()
