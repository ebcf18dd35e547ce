#!/usr/bin/env python3
"""A live database against the migration history, the models and the checksums, as JSON. Without --db or
--db-file, the database is DBPATTERNS_DATABASE_URL's (so that its password stays off the command line).

    python scripts/drift.py --help
"""

import os
import sys

from _bundle import run

if __name__ == "__main__":
    argv = sys.argv[1:]
    url = os.environ.get("DBPATTERNS_DATABASE_URL")
    if url and not any(a.split("=")[0] in ("--db", "--db-file") for a in argv):
        argv += ["--db", url]
    sys.exit(run("drift", argv))
