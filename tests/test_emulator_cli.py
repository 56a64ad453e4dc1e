"""`python -m outlook_sync.emulator`: prints its URL first, serves real HTTP, stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

from outlook_sync.emulator import EmulatorControl


def test_the_emulator_command_prints_its_url_and_serves_graph() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "outlook_sync.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        tokens = EmulatorControl(url).token("dana@contoso.example")
        request = urllib.request.Request(
            f"{url}/v1.0/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            me = json.loads(response.read())
        assert me["mail"] == "dana@contoso.example"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_a_busy_port_is_a_clear_error() -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "outlook_sync.emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout is not None
        port = first.stdout.readline().strip().rsplit(":", 1)[1]
        second = subprocess.run(
            [sys.executable, "-m", "outlook_sync.emulator", "--port", port],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert second.returncode == 2
        assert "could not start the emulator" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=10)
