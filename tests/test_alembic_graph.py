"""The static revision graph: ids, parents, labels and dependencies read with ast, nothing imported."""

from __future__ import annotations

import pytest

from dbpatterns.alembic.graph import read_graph
from dbpatterns.errors import InputError


def revision(folder, name, body):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body)


def test_plain_annotated_tuple_and_list_assignments_without_importing(tmp_path):
    v = tmp_path / "versions"
    revision(v, "a_base.py", '"""base"""\nimport no_such_app\nrevision = "a"\ndown_revision = None\n')
    revision(v, "b_next.py", 'revision: str = "b"\ndown_revision: str | None = "a"\nbranch_labels = ("x",)\n')
    revision(v, "c_side.py", 'revision = "c"\ndown_revision = ["a"]\ndepends_on = "b"\n')
    revision(v, "d_merge.py", 'revision = "d"\ndown_revision = ("b", "c")\n')
    graph = read_graph([v])
    assert graph.heads == ["d"] and graph.merge_points == ["d"] and graph.branch_points == ["a"]
    assert graph.nodes["a"].doc == "base" and graph.nodes["b"].branch_labels == ("x",)
    assert graph.nodes["c"].parents == ("a", "b")
    assert graph.order() == ["a", "b", "c", "d"]
    assert graph.ancestors(["c"]) == {"a", "b", "c"}
    assert graph.resolve("x") == "b" and graph.resolve("d") == "d" and graph.resolve("zz") is None


def test_a_value_that_is_not_a_literal_is_named_not_guessed(tmp_path):
    v = tmp_path / "versions"
    revision(v, "a.py", "from app import ids\nrevision = ids.A\ndown_revision = None\n")
    graph = read_graph([v])
    assert not graph.nodes and graph.unreadable[0][1].startswith("revision is not a literal")


@pytest.mark.parametrize(
    "body, message",
    [
        ("x = 1\n", "without 'revision ='"),
        ("revision = (\n", "not valid Python"),
    ],
)
def test_a_py_file_that_is_not_a_revision_is_an_error(tmp_path, body, message):
    revision(tmp_path, "bad.py", body)
    with pytest.raises(InputError, match=message):
        read_graph([tmp_path])


def test_two_files_with_one_revision_id_are_an_error(tmp_path):
    revision(tmp_path, "a1.py", 'revision = "a"\n')
    revision(tmp_path, "a2.py", 'revision = "a"\n')
    with pytest.raises(InputError, match="also the revision of"):
        read_graph([tmp_path])


def test_recursive_version_locations(tmp_path):
    revision(tmp_path / "2024", "a.py", 'revision = "a"\ndown_revision = None\n')
    revision(tmp_path / "2025", "b.py", 'revision = "b"\ndown_revision = "a"\n')
    assert read_graph([tmp_path]).nodes == {}
    assert read_graph([tmp_path], recursive=True).order() == ["a", "b"]
