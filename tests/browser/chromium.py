"""Debian's Chromium for the browser tests: the system package, never a browser Playwright downloads.

Missing, it is installed with apt-get (we run as root here and in CI; about 40 s on a warm mirror, a minute or two
on a cold one); elsewhere the test fails saying what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

APT_PACKAGE = "chromium"
INSTALL_TIMEOUT = 900


def chromium_path() -> str:
    """The system Chromium's executable, installed first if missing."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("Chromium is missing: run `sudo apt-get install -y chromium` (Debian's package)")
    started = time.monotonic()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", APT_PACKAGE],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    print(f"installed Debian's chromium in {time.monotonic() - started:.0f} s")
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError("apt-get installed chromium but no `chromium` is on PATH")
    return found
