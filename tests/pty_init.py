#!/usr/bin/env python3
"""Drives an interactive `ebhook init` on a pseudo-terminal, answering its prompts as a person
would for Zendesk: provider (the first item), stack name, a new event bus, yes to the change set,
then, once the webhook URL is shown, the hidden signing-secret prompt and yes to the second
change set.

Usage: pty_init.py EBHOOK --stack-name NAME --secret-env VAR [--bootstrap PATH]
                   [--build-timeout S] [--timeout S]

With --bootstrap, ebhook deploys that binary instead of building the handler.

The secret to type is read from the environment variable VAR (never argv) and is not passed on
to ebhook. ebhook gets this process's environment (the AWS endpoint and credentials) and its
working directory. Everything ebhook writes to the terminal is copied to stdout; progress and
failures of this script go to stderr. Exit status: ebhook's, or 2 if a prompt never came.
"""

import argparse
import os
import re
import sys

import pexpect


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ebhook")
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--secret-env", required=True)
    parser.add_argument("--bootstrap")
    parser.add_argument("--build-timeout", type=float, default=900.0)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()

    env = dict(os.environ)
    secret = env.pop(args.secret_env)
    # dialoguer needs nothing more than a terminal; TERM keeps colours and cursor moves usual.
    env.setdefault("TERM", "xterm")

    child = pexpect.spawn(
        args.ebhook,
        ["init"] + (["--bootstrap", args.bootstrap] if args.bootstrap else []),
        env=env,
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(50, 200),
        timeout=args.timeout,
    )
    child.logfile_read = sys.stdout

    def wait_for(what: str, pattern: str, timeout: float | None = None) -> None:
        print(f"[pty_init] waiting for {what}", file=sys.stderr, flush=True)
        try:
            child.expect(pattern, timeout=timeout if timeout is not None else args.timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as error:
            kind = "timed out" if isinstance(error, pexpect.TIMEOUT) else "ebhook exited"
            print(f"\n[pty_init] {kind} waiting for {what}", file=sys.stderr, flush=True)
            child.close(force=True)
            sys.exit(2)

    wait_for("the provider question", r"Which provider sends the webhooks\?")
    child.send("\r")  # zendesk, the first item
    wait_for("the stack name question", r"Stack name")
    child.send(args.stack_name + "\r")
    wait_for("the event bus question", r"Event bus")
    child.send("\r")  # create a new bus
    # The handler is built (the first release build takes minutes) or taken from --bootstrap,
    # and the artifacts stack is made without asking; then the person's own stack is shown and
    # asked about.
    wait_for(
        "the create change set",
        rf"Changes to stack {re.escape(args.stack_name)} \(create\)",
        args.build_timeout,
    )
    wait_for("the first confirmation", r"Apply these changes\?")
    child.send("y")
    wait_for("the webhook URL", r"Webhook URL: https://")
    wait_for("Zendesk's steps", r"Create webhook")
    wait_for("the hidden secret prompt", r"Zendesk signing secret")
    child.send(secret + "\r")
    wait_for(
        "the update change set",
        rf"Changes to stack {re.escape(args.stack_name)} \(update\)",
    )
    wait_for("the second confirmation", r"Apply these changes\?")
    child.send("y")
    print("[pty_init] waiting for ebhook to finish", file=sys.stderr, flush=True)
    try:
        child.expect(pexpect.EOF, timeout=args.timeout)
    except pexpect.TIMEOUT:
        print("\n[pty_init] ebhook did not finish", file=sys.stderr, flush=True)
        child.close(force=True)
        return 2
    child.close()
    print(f"\n[pty_init] ebhook exited with {child.exitstatus}", file=sys.stderr, flush=True)
    if child.exitstatus is None:
        return 2
    return child.exitstatus


if __name__ == "__main__":
    sys.exit(main())
