"""Turns ``make bench``'s JSON lines (stdin) into the Markdown table of BENCHMARKS.md (stdout).

make bench | tee bench.jsonl && python3 bench/table.py < bench.jsonl
"""

from __future__ import annotations

import json
import sys

COLUMNS = ("seconds", "cpu_seconds", "requests", "peak_rss_mb", "mails", "duplicates", "missing")


def cell(side: dict | None, key: str) -> str:
    if side is None:
        return "-"  # that side was not run (BENCH_SIDES)
    if "error" in side:
        return "error"
    if key == "cpu_seconds":
        # Odoo's process (the engine's threads included) + its PostgreSQL backend, when both were measured.
        cpu = side.get(key) or {}
        if cpu.get("database") is None:
            return str(cpu.get("process", ""))
        return f"{cpu['process']} + {cpu['database']}"
    return str(side.get(key, ""))


def ratio(ours: dict | None, incumbent: dict | None) -> str:
    if not ours or not incumbent or "error" in ours or "error" in incumbent or not ours.get("seconds"):
        return ""
    return f"{incumbent['seconds'] / ours['seconds']:.1f}x"


def main() -> None:
    header = ["workload", "service ms", "n"]
    header += [f"ours {column}" for column in COLUMNS] + [f"incumbent {column}" for column in COLUMNS]
    header.append("incumbent time / ours")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for line in sys.stdin:
        if not line.strip():
            continue
        row = json.loads(line)
        ours, incumbent = row.get("ours"), row.get("incumbent")
        cells = [row["workload"], str(row["service_ms"]), str(row["n"])]
        cells += [cell(ours, column) for column in COLUMNS] + [cell(incumbent, column) for column in COLUMNS]
        cells.append(ratio(ours, incumbent))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
