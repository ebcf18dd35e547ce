#!/usr/bin/env python3
"""Run an Alembic project's whole history on a throwaway PostgreSQL and check it, as JSON.

python scripts/verify.py --help
"""

import sys

from _bundle import run

if __name__ == "__main__":
    sys.exit(run("verify"))
