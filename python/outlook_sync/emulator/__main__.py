"""``python -m outlook_sync.emulator``: run our Graph emulator until interrupted.

The first line on standard output is the base URL (for scripts: ``URL=$(... | head -1)``); everything else goes
to standard error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from outlook_sync.emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outlook_sync.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="IP address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--limits", action="store_true", help="enforce Outlook's per-mailbox service limits")
    parser.add_argument("--service-time-ms", type=int, default=0, help="simulated time per request and item")
    args = parser.parse_args(argv)

    # Handlers first: whoever reads the URL may signal us right away.
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    try:
        emulator = Emulator.start(args.host, args.port)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.limits or args.service_time_ms:
        emulator.configure(limits=args.limits, service_time_ms=args.service_time_ms)
    print(emulator.url, flush=True)
    print(f"Graph emulator listening on {emulator.url} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
