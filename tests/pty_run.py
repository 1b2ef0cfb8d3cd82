#!/usr/bin/env python3
"""Runs one command on a pseudo-terminal with no questions to answer, as a person at a terminal
would see it: stdin, stdout and stderr are all the terminal.

Usage: pty_run.py [--timeout S] PROGRAM [ARGS...]

Everything the program writes to the terminal is copied to stdout. Exit status: the program's,
or 2 if it did not finish within the timeout.
"""

import argparse
import sys

import pexpect


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("program")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    child = pexpect.spawn(
        args.program,
        args.args,
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(50, 200),
        timeout=args.timeout,
    )
    child.logfile_read = sys.stdout
    try:
        child.expect(pexpect.EOF)
    except pexpect.TIMEOUT:
        print("\n[pty_run] timed out", file=sys.stderr, flush=True)
        child.close(force=True)
        return 2
    child.close()
    if child.exitstatus is None:
        return 2
    return child.exitstatus


if __name__ == "__main__":
    sys.exit(main())
