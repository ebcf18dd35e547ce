"""dbpatterns heads: the heads and branches of a project's history (read statically)."""

from __future__ import annotations

import json

from dbpatterns.cli import main
from dbpatterns.heads import show_heads
from tests.alembic_builder import write_project

CREATE = ("op.execute('CREATE TABLE {0} (id int)')", "op.execute('DROP TABLE {0}')")


def _rev(rev, parent, table):
    return (rev, parent, CREATE[0].format(table), CREATE[1].format(table))


def test_linear_history_has_one_head(tmp_path, capsys):
    project = write_project(tmp_path / "p", [_rev("r1", None, "a"), _rev("r2", "r1", "b")])
    report = show_heads(project)
    assert report.single and [h.revision for h in report.heads] == ["r2"]
    assert report.heads[0].down_revision == ("r1",) and report.revisions == 2
    assert main(["heads", "--project", str(project)]) == 0
    assert "one head, 2 revision(s)" in capsys.readouterr().out


def test_two_branches(tmp_path, capsys):
    project = write_project(
        tmp_path / "p", [_rev("r1", None, "a"), _rev("r2a", "r1", "b"), _rev("r2b", "r1", "c")]
    )
    assert main(["heads", "--project", str(project), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["single"] is False
    assert [h["revision"] for h in data["heads"]] == ["r2a", "r2b"]
    assert data["branch_points"] == ["r1"] and data["merge_points"] == []
    assert main(["heads", "--project", str(project)]) == 1
    assert "2 heads: merge them" in capsys.readouterr().out


def test_merged_branches(tmp_path):
    revisions = [
        _rev("r1", None, "a"),
        _rev("r2a", "r1", "b"),
        _rev("r2b", "r1", "c"),
        ("r3", ("r2a", "r2b"), "pass", "pass"),
    ]
    report = show_heads(write_project(tmp_path / "p", revisions))
    assert report.single and report.heads[0].revision == "r3"
    assert report.heads[0].down_revision == ("r2a", "r2b")
    assert report.merge_points == ["r3"] and report.branch_points == ["r1"]


def test_not_a_project(tmp_path, capsys):
    assert main(["heads", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Alembic project" in err


def test_revision_that_does_not_import(tmp_path, capsys):
    project = write_project(tmp_path / "p", [_rev("r1", None, "a")])
    revision = project / "migrations" / "versions" / "r1.py"
    revision.write_text("revision = 'r1'\nimport no_such_module\n")
    # heads reads the ids statically: nothing is imported
    assert main(["heads", "--project", str(project)]) == 0
    # a command that runs the history imports it: the error names the file, the line and the ImportError
    assert (
        main(["new", "add-index", "--table", "a", "--column", "id", "--print", "--project", str(project)])
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot load the revisions" in err
    assert f"{revision}:2: ModuleNotFoundError: No module named 'no_such_module'" in err


def test_a_missing_parent_is_named(tmp_path, capsys):
    """Alembic warns which revision is missing before it fails; every command that loads the history says
    that (heads, new and trace --revision share the loader)."""
    project = write_project(tmp_path / "p", [_rev("r1", None, "a"), _rev("r2", "gone", "b")])
    for args in (["heads"], ["new", "add-index", "--table", "a", "--column", "id", "--print"]):
        assert main([*args, "--project", str(project)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot load the revisions: Revision gone referenced from" in err
