#!/usr/bin/env python3
"""Write a safe Alembic revision from a migration pattern (--list for the patterns; --print to only show it).

python scripts/new.py --help
"""

import sys

from _bundle import run

if __name__ == "__main__":
    sys.exit(run("new"))
