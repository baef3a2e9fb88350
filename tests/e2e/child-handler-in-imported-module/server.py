"""A child whose SIGTERM handling lives in another module."""

import time

import lifecycle


def handle(n):
    return n * 2


def main():
    lifecycle.install()
    total = 0
    for i in range(3):
        total += handle(i)
    print("READY", total, flush=True)
    while True:
        time.sleep(0.05)


if __name__ == "__main__":
    main()
