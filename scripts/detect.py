#!/usr/bin/env python3
"""Model changes no migration covers yet, with their risk and safe pattern, as JSON.

python scripts/detect.py --help
"""

import sys

from _bundle import run

if __name__ == "__main__":
    sys.exit(run("detect"))
