#!/usr/bin/env python3
"""Run a migration on a throwaway PostgreSQL: locks and rewrites per statement, as JSON.

python scripts/trace.py --help
"""

import sys

from _bundle import run

if __name__ == "__main__":
    sys.exit(run("trace"))
