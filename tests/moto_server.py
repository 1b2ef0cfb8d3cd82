"""Start moto's server for the integration tests.

Usage: python tests/moto_server.py PORT

PORT 0 picks a free port. Once the server accepts connections, exactly one
line `READY <port>` is printed to stdout. The server then runs until stdin is
closed (so it dies with the test process that spawned it) or until SIGTERM or
SIGINT arrives, and exits with status 0.
"""

import logging
import signal
import socket
import sys

from moto.server import ThreadedMotoServer

HOST = "127.0.0.1"


class _Stop(Exception):
    """Raised from the signal handlers to leave the wait on stdin."""


def register_models():
    """Register extra resource models with moto before the server starts.

    EXTENSION POINT: tests/moto_models.py (next to this file) adds the
    CloudFormation resource types moto 5.2.5 does not model
    (AWS::Lambda::Url, AWS::SecretsManager::Secret, AWS::S3::BucketPolicy,
    AWS::SQS::QueuePolicy) and patches moto where it differs from AWS:
    function URL permission conditions, change sets, NoEcho parameters and
    resource-level stack events with rollback. See that module's docstring.
    """
    # This file's directory is on sys.path when it runs as a script.
    import moto_cbor
    import moto_models

    moto_models.install()
    moto_cbor.install()


def _on_signal(signum, frame):
    raise _Stop()


def _wait_until_accepting(port, timeout=10.0):
    # The listening socket exists once start() returns; connecting once proves it.
    with socket.create_connection((HOST, port), timeout=timeout):
        pass


def main(argv):
    if len(argv) != 2:
        print("usage: moto_server.py PORT", file=sys.stderr)
        return 2
    port = int(argv[1])

    # Werkzeug logs every request to stderr; the tests only want errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    register_models()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    # Port 0 lets the OS choose a free port when the socket is bound; the
    # port actually bound is read back below, so there is no bind race.
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    try:
        _, bound_port = server.get_host_and_port()
        _wait_until_accepting(bound_port)
        sys.stdout.write(f"READY {bound_port}\n")
        sys.stdout.flush()
        try:
            while sys.stdin.buffer.read(65536):
                pass
        except _Stop:
            pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
