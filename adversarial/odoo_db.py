"""A fresh Odoo 18 database with the addon installed, its registry in this process, and its removal.

Used by the long forms of the adversarial suites. ``ODOO_SRC`` names the Odoo 18 tree; this process must run on
Odoo's Python (``ODOO_VENV``, default ``$ODOO_SRC/../odoo-venv``), which also holds the ``outlook_sync`` wheel.
"""

# The suites start Odoo's own tools (odoo-bin, dropdb) with fixed arguments.
# ruff: noqa: S603, S607

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON = "outlook_calendar_sync"


def odoo_src() -> Path | None:
    value = os.environ.get("ODOO_SRC")
    return Path(value).resolve() if value else None


def addons_path(src: Path) -> str:
    return f"{src / 'odoo' / 'addons'},{REPO / 'odoo_addon'}"


def log(message: str) -> None:
    print(f"[adversarial {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def create_database(src: Path, name: str) -> None:
    """Installs the addon in a new database ``name`` (no demo data); raises if odoo-bin fails."""
    started = time.monotonic()
    command = [
        sys.executable,
        str(src / "odoo-bin"),
        "-d",
        name,
        "-i",
        ADDON,
        "--stop-after-init",
        "--without-demo=all",
        f"--addons-path={addons_path(src)}",
        "--log-level=warn",
        "--http-port=0",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"odoo-bin could not create database {name}:\n{result.stderr[-3000:]}")
    log(f"database {name} ready in {time.monotonic() - started:.0f}s")


def drop_database(name: str) -> None:
    """Drops ``name`` and its filestore; this process's connections to it are closed first (a killed worker's
    may linger, hence ``--force``: the database is the suite's own)."""
    odoo = sys.modules.get("odoo")
    if odoo is not None:
        from odoo.modules.registry import Registry  # noqa: PLC0415

        Registry.delete(name)
        odoo.sql_db.close_db(name)
    result = subprocess.run(["dropdb", "--force", "--if-exists", name], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        log(f"could not drop database {name}: {result.stderr.strip()}")
    shutil.rmtree(Path.home() / ".local" / "share" / "Odoo" / "filestore" / name, ignore_errors=True)


def load_registry(src: Path, name: str):
    """Odoo imported from ``src`` and the registry of database ``name``."""
    sys.path.insert(0, str(src))
    import odoo  # noqa: PLC0415 - Odoo comes from the tree given at run time
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["--addons-path", addons_path(src), "-d", name, "--log-level", "warn"])
    # Warnings and errors only: a suite's figures must not drown in the sync's routine log lines. Odoo's
    # --log-level sets its own loggers only; the wheel logs under "outlook_sync".
    odoo.netsvc.init_logger()
    logging.getLogger("outlook_sync").setLevel(logging.WARNING)
    # The suites reuse the addon's test helpers, which import Odoo's test framework; outside a test run Odoo logs
    # that as an error, which here it is not.
    logging.getLogger("odoo.tests.common").setLevel(logging.CRITICAL)
    return odoo, Registry(name)


@contextmanager
def fresh_database(src: Path, suite: str, reuse: str | None = None):
    """Yields the name of a fresh database for ``suite``, dropped afterwards; ``reuse`` names an existing database
    with the addon installed instead (kept), for quick development runs."""
    if reuse:
        yield reuse
        return
    name = f"ocs_adv_{suite}_{os.getpid()}_{int(time.time())}"
    try:
        create_database(src, name)
        yield name
    finally:
        drop_database(name)
