"""pytest plugin: ``dbpatterns verify``'s checks as tests of a project's own suite, one item per check.

Installed with the package (entry point ``pytest11``) and inert until configured. One line turns it on::

    [tool.pytest.ini_options]
    dbpatterns_verify = true

or ``pytest --dbpatterns-verify``. Optional: ``dbpatterns_project`` (the Alembic project's folder,
relative to the pytest configuration file; default: that file's folder) and ``dbpatterns_db`` (a server
URL to create the scratch database on; default: a throwaway embedded PostgreSQL) and ``dbpatterns_rows``
(generated rows per table before each revision; default: ``[tool.dbpatterns] verify_rows`` or 3). The
checks run once, on the first item, and each item reports its own check: single_head, upgrade,
models_match, downgrade, stairway, downgrade_no_trace, downgrade_keeps_data. The policies (data hooks,
intended heads, NotImplementedError stops, the lowest revision) come from ``[tool.dbpatterns]`` as for
``dbpatterns verify``. Nothing heavy is imported unless the plugin is on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_REPORT = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("dbpatterns_verify", "run dbpatterns verify's checks as tests", type="bool", default=False)
    parser.addini("dbpatterns_project", "the Alembic project's folder for dbpatterns verify", default="")
    parser.addini("dbpatterns_db", "server URL for dbpatterns verify's scratch database", default="")
    parser.addini("dbpatterns_rows", "generated rows per table before each revision (0: none)", default="")
    group = parser.getgroup("dbpatterns")
    group.addoption(
        "--dbpatterns-verify",
        action="store_true",
        default=False,
        help="run dbpatterns verify's checks (heads, upgrade, stairway, no trace, models) as tests",
    )
    group.addoption("--dbpatterns-project", default=None, help="the Alembic project's folder")
    group.addoption("--dbpatterns-db", default=None, help="server URL for the scratch database")
    group.addoption("--dbpatterns-rows", type=int, default=None, help="generated rows per table (0: none)")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("dbpatterns_verify") or config.getini("dbpatterns_verify"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    if not _enabled(config):
        return
    if config.args and all("::" in arg for arg in config.args):
        return  # the user picked particular tests
    from dbpatterns.verify.model import CHECKS

    project = _project_dir(config)
    config_file = next(
        (project / n for n in ("alembic.ini", "pyproject.toml") if (project / n).is_file()), None
    )
    where = {"path": config_file} if config_file else {}
    parent = VerifyCollector.from_parent(session, name="dbpatterns-verify", **where)
    items[:0] = [VerifyItem.from_parent(parent, name=name) for name in CHECKS]


class VerifyCollector(pytest.Collector):
    def collect(self):  # items are made in pytest_collection_modifyitems
        return []


class VerifyFailure(Exception):
    """A failed check: its message is the report, without a traceback."""


class VerifyItem(pytest.Item):
    def runtest(self) -> None:
        report = _report(self.config)
        if isinstance(report, str):  # an input error: every item says it
            raise VerifyFailure(f"dbpatterns verify: {report}")
        if self.name in report.skipped:
            pytest.skip(report.skipped[self.name])
        checks = [c for c in report.checks if c.name == self.name]
        if not checks:
            pytest.skip("not run")
        failed = [c for c in checks if not c.ok]
        if failed:
            raise VerifyFailure(
                "\n".join(
                    f"{c.name}" + (f" [{c.revision}]" if c.revision else "") + f": {c.detail}" for c in failed
                )
            )

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, VerifyFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"dbpatterns verify: {self.name}"


def _report(config: pytest.Config):
    if _REPORT not in config.stash:
        from dbpatterns.errors import InputError
        from dbpatterns.verify import verify_project

        db = config.getoption("dbpatterns_db") or config.getini("dbpatterns_db") or None
        rows = config.getoption("dbpatterns_rows")
        try:
            if rows is None and str(config.getini("dbpatterns_rows")).strip():
                text = str(config.getini("dbpatterns_rows")).strip()
                if not text.isdigit():
                    raise InputError(f"dbpatterns_rows must be a count of rows, not {text!r}")
                rows = int(text)
            config.stash[_REPORT] = verify_project(_project_dir(config), db=db, rows=rows)
        except InputError as exc:
            config.stash[_REPORT] = str(exc)
    return config.stash[_REPORT]


def _project_dir(config: pytest.Config) -> Path:
    base = config.inipath.parent if config.inipath else config.rootpath
    project = config.getoption("dbpatterns_project") or config.getini("dbpatterns_project") or "."
    return base / Path(project)
