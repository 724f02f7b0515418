"""`chalice local` with a listen backlog fit for concurrent clients (run by scripts/localenv.py).

Chalice's dev server keeps socketserver's default backlog of 5 pending connections. Twenty clients connecting at
once overflow it, the kernel falls back to SYN cookies ("Possible SYN flooding" in dmesg) and some clients get
"Connection reset by peer" before their request reaches the app. API Gateway has no such limit, so the local stack
raises the backlog; everything else is the stock `chalice local` command line.
"""

from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

BACKLOG = 128

if __name__ == "__main__":
    local.ThreadedHTTPServer.request_queue_size = BACKLOG
    sys.exit(main())
