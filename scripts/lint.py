#!/usr/bin/env python3
"""Lint migrations (.sql files, Alembic revisions, folders, projects; - reads stdin); JSON findings.

python scripts/lint.py --help
"""

import sys

from _bundle import run

if __name__ == "__main__":
    sys.exit(run("lint"))
