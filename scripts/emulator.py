"""The embedded AWS emulator of the local stack: a moto server on 127.0.0.1 in this process.

DynamoDB requests are serialized first (scripts/emulator_atomicity.py): moto applies a transaction's
writes without a lock, and the local stack must exercise our conditional writes, not moto's races.
"""

from __future__ import annotations

import logging
import threading

from moto.server import ThreadedMotoServer

from scripts.emulator_atomicity import cheap_transaction_backups, serialize_dynamodb_writes
from scripts.localenv import port_is_free

START_TIMEOUT_SECONDS = 15


class EmulatorError(RuntimeError):
    pass


def start_moto(port: int) -> ThreadedMotoServer:
    """A started moto server on 127.0.0.1:``port``; raises ``EmulatorError`` when it cannot listen."""
    if not port_is_free(port):
        raise EmulatorError(f"port {port} is busy: set AWS_PORT to a free port, or AWS_ENDPOINT_URL to an emulator")
    serialize_dynamodb_writes()
    cheap_transaction_backups()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per emulated AWS request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    starter = threading.Thread(target=server.start, daemon=True)  # start() waits forever if the bind fails
    starter.start()
    starter.join(START_TIMEOUT_SECONDS)
    if starter.is_alive():
        raise EmulatorError(f"the moto server did not start on port {port}")
    return server
