#!/usr/bin/env python
"""`make bench`: production-topology benchmarks, each scenario as a ratio to a same-run baseline.

Usage: make bench BENCH_ARGS="--only foundation --duration 5"   (or: .venv/bin/python bench/run.py --help)
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
