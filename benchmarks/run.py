"""Run every benchmark (``benchmarks/bench_*.py``) in turn; ``make bench`` calls this.

Benchmarks are scripts, not tests: each prints its measurements as Markdown and how they were
taken. ``--only NAME`` runs one; other arguments are passed through (e.g. ``--sizes 10000``).
Results are copied by hand into BENCHMARKS.md with the machine they were measured on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = None
    if "--only" in argv:
        at = argv.index("--only")
        only = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if only in s.stem]
    if not scripts:
        print("No benchmark matched.", file=sys.stderr)
        return 1
    failed = 0
    for script in scripts:
        print(f"\n## {script.stem}\n", flush=True)
        failed += subprocess.call([sys.executable, str(script), *argv], cwd=HERE.parent) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
