"""Turn rendered blocks into revision files of the user's Alembic project, the way ``alembic revision``
does: a fresh id from ``alembic.util.rev_id()``, the current head as ``down_revision``, the project's
``file_template`` (``ScriptDirectory._rev_path``), its ``script.py.mako`` for the header and its
``post_write_hooks``. Files are written atomically and never over an existing one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mako.template import Template

from ..alembic.project import alembic_config, importable_in, load_script
from ..errors import InputError, first_line
from ..files import create_new_file
from ..shapes import internal
from .jinja import indent_body
from .model import Written


@dataclass(slots=True)
class Generated(Written):
    """A revision rendered (and written, unless ``--print``): its JSON is :class:`Written`'s."""

    text: str = internal()


class AlembicProject:
    """The user's project read through Alembic's own ``Config`` and ``ScriptDirectory``."""

    def __init__(self, project) -> None:
        self.project = project
        self.config = alembic_config(project)
        self.script = load_script(project, self.config)
        self.heads = tuple(self.script.get_heads())

    def parents(self, chosen: list[str] | None, merge: bool = False) -> tuple[str, ...]:
        """The revision(s) the new one goes on: the single head, the chosen one, or (merge) several."""
        if chosen:
            found = []
            for rev in chosen:
                try:
                    script = self.script.get_revision(rev)
                except Exception:  # noqa: BLE001 - Alembic's RevisionError and friends
                    script = None
                if script is None:
                    raise InputError(f"--head {rev}: no such revision (heads: {self._names()})")
                if script.revision not in self.heads:
                    raise InputError(f"--head {rev}: not a head (heads: {self._names()})")
                found.append(script.revision)
            if merge and len(found) < 2:
                raise InputError("merge: give at least two heads with --head (or none for all heads)")
            if not merge and len(found) > 1:
                raise InputError("--head: give one head (several only for merge)")
            return tuple(found)
        if merge:
            if len(self.heads) < 2:
                raise InputError(f"merge: nothing to merge, the project has one head ({self._names()})")
            return tuple(sorted(self.heads))
        if len(self.heads) > 1:
            raise InputError(f"several heads ({self._names()}): choose one with --head, or merge them first")
        return self.heads

    def _names(self) -> str:
        return ", ".join(sorted(self.heads)) or "none"

    def new_revision_id(self, taken: set[str]) -> str:
        from alembic.util import rev_id

        while True:
            rev = rev_id()
            if rev not in taken and rev not in self.script.revision_map._revision_map:
                return rev

    def revision_text(
        self, rev: str, down: tuple[str, ...], message: str, blocks: dict[str, str]
    ) -> tuple[Path, str]:
        """(path, text) of a revision: the project's file name template and script.py.mako."""
        from alembic.script.revision import tuple_rev_as_scalar
        from alembic.util import format_as_comma

        script = self.script
        create_date = script._generate_create_date()
        folder = self._version_folder(down)
        path = Path(script._rev_path(folder, rev, message, create_date))
        mako = Path(script.dir, "script.py.mako")
        if not mako.is_file():
            import alembic

            mako = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"
        source = mako.read_text(encoding="utf-8")
        imports = []
        if "from alembic import op" not in source:
            imports.append("from alembic import op")
        if "import sqlalchemy as sa" not in source:
            imports.append("import sqlalchemy as sa")
        doc = f"{message}\n\n{blocks['doc']}" if blocks["doc"] else message
        try:
            text = Template(text=source).render_unicode(
                message=doc,
                up_revision=rev,
                down_revision=tuple_rev_as_scalar(down),
                branch_labels=None,
                depends_on=None,
                create_date=create_date,
                comma=format_as_comma,
                imports="\n".join(imports),
                upgrades=indent_body(blocks["upgrade"]),
                downgrades=indent_body(blocks["downgrade"]),
                config=self.config,
            )
        except Exception as exc:  # noqa: BLE001 - the project's own template
            raise InputError(f"{mako}: cannot render: {first_line(exc)}") from None
        text = text.rstrip() + "\n"
        if blocks["downgrade_ignore"]:
            text = _ignore_on_def(text, "downgrade", blocks["downgrade_ignore"].split())
        if blocks["helpers"]:
            text += "\n\n" + blocks["helpers"] + "\n"
        try:
            compile(text, str(path), "exec")
        except SyntaxError as exc:
            raise InputError(
                f"{path.name}: the rendered revision is not valid Python: {exc.msg} (line {exc.lineno})"
            ) from None
        return path, text

    def _version_folder(self, down: tuple[str, ...]) -> Path:
        locations = self.script._version_locations
        if len(locations) == 1:
            return Path(locations[0])
        for rev in down:
            script = self.script.get_revision(rev)
            if script is not None:
                return Path(script.path).parent
        raise InputError(
            f"{self.project.config_file}: several version_locations and no head to place the revision beside"
        )

    def check_free(self, path: Path) -> None:
        if path.exists():
            raise InputError(f"{path} already exists; not overwriting it")

    def write(self, path: Path, text: str) -> None:
        """Write ``text`` to ``path`` atomically, failing if the file exists; then run the write hooks."""
        path.parent.mkdir(parents=True, exist_ok=True)
        create_new_file(path, text.encode(self.script.output_encoding))
        if self.script.hooks:
            from alembic.script import write_hooks

            with importable_in(self.project.root):
                try:
                    write_hooks._run_hooks(path, self.script.hooks)
                except Exception as exc:  # noqa: BLE001 - the project's hook
                    raise InputError(
                        f"{path} was written but a post_write_hook failed: {first_line(exc)}"
                    ) from None


def _ignore_on_def(text: str, function: str, rules: list[str]) -> str:
    """Add ``# dbpatterns: ignore[...]`` to the line of ``def function(``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(rf"(async\s+)?def\s+{function}\s*\(", line):
            lines[i] = f"{line}  # dbpatterns: ignore[{', '.join(rules)}]"
            break
    return "\n".join(lines) + "\n"
