"""Helpers of the security tests: JSON-RPC that keeps the raw answer, log capture, and the search for secrets."""

import json
import logging
from contextlib import contextmanager

# Raised to DEBUG while logs are captured: everything the addon, the wheel (its Rust records included), Odoo and
# its HTTP server say, RPC requests and answers included. odoo.sql_db stays at INFO: its DEBUG level is Odoo's
# --log-level=debug_sql, a developer switch printing every SQL query with its parameters, so every stored value.
VERBOSE_LOGGERS = ("", "odoo", "werkzeug", "outlook_sync", "odoo.http.rpc.request", "odoo.http.rpc.response")
QUIET_LOGGERS = ("odoo.sql_db",)
# The test's own HTTP client stands in for the browser, which holds the code in its address bar anyway: its logs
# are not the server's.
CLIENT_LOGGERS = ("urllib3", "requests")


class CapturedLogs(logging.Handler):
    """Every record, formatted with its traceback, as one text to search."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines = []

    def emit(self, record):
        if record.name.split(".")[0] not in CLIENT_LOGGERS:
            self.lines.append(self.format(record))

    def text(self):
        return "\n".join(self.lines)


@contextmanager
def capture_logs():
    """Capture every log record of the process (the HTTP server's threads included) at DEBUG.

    The handlers already installed keep their usual threshold, so the test log is not flooded.
    """
    handler = CapturedLogs()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in VERBOSE_LOGGERS + QUIET_LOGGERS}
    thresholds = {known: known.level for known in root.handlers}
    try:
        for known in root.handlers:
            known.setLevel(max(known.level, logging.INFO))
        root.addHandler(handler)
        for name in VERBOSE_LOGGERS:
            logging.getLogger(name).setLevel(logging.DEBUG)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO)
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for known, level in thresholds.items():
            known.setLevel(level)


def assert_no_secret(case, text, secrets, where):
    """Fail ``case`` if any value of ``secrets`` (name -> value) appears in ``text``."""
    for name, value in secrets.items():
        case.assertTrue(value and len(value) >= 8, f"the {name} to look for is too short to search for: {value!r}")
        if value in text:
            at = text.index(value)
            case.fail(f"the {name} appears in {where}: ...{text[max(0, at - 200) : at + len(value) + 50]}...")


class JsonRpcMixin:
    """JSON-RPC calls through ``/web/dataset/call_kw`` as the authenticated user, with the raw answer kept."""

    def call_kw(self, model, method, args=(), **kwargs):
        """``(result, error name or None, raw response text)``."""
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text[:500])
        body = response.json()
        error = body.get("error")
        return body.get("result"), (error["data"]["name"] if error else None), response.text

    def assertRpcRefused(self, model, method, args=(), expected="odoo.exceptions.AccessError", **kwargs):
        """The call fails with ``expected``; returns the raw answer (for the secrets check)."""
        result, error, text = self.call_kw(model, method, args, **kwargs)
        self.assertEqual(error, expected, f"{model}.{method}{tuple(args)} {kwargs} answered {result!r}")
        return text
