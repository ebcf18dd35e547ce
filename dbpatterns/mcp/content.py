"""Resources (the skill's markdown: rules/, references/, checklists/, and every lint rule's doc) and prompts.

The folders are enumerated when the server starts; a file added later is still readable through the
``dbpatterns://{folder}/{name}`` templates.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.server.mcpserver.resources import FunctionResource

FOLDERS = ("rules", "references", "checklists")
SCHEME = "dbpatterns"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def bundle_root() -> Path:
    """The folder holding rules/, references/ and checklists/: ``DBPATTERNS_BUNDLE_DIR``, else the checkout
    (or plugin root) this package lives in, else where a plain install put them (``share/database-patterns``
    under the environment's prefix)."""
    given = os.environ.get("DBPATTERNS_BUNDLE_DIR")
    if given:
        return Path(given).resolve()
    return choose_bundle(Path(__file__).resolve().parents[2], Path(sys.prefix))


def choose_bundle(checkout: Path, prefix: Path) -> Path:
    installed = prefix / "share" / "database-patterns"
    if not (checkout / "rules").is_dir() and (installed / "rules").is_dir():
        return installed
    return checkout


def documents(root: Path | None = None) -> dict[str, Path]:
    """``dbpatterns://{folder}/{name}`` -> file, for every file of the three folders (``.md`` dropped)."""
    root = root or bundle_root()
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                file = Path(dirpath, name)
                stem = (
                    file.relative_to(base).with_suffix("") if file.suffix == ".md" else file.relative_to(base)
                )
                found[f"{SCHEME}://{folder}/{stem.as_posix()}"] = file
    return found


def _mime(file: Path) -> str:
    return "text/markdown" if file.suffix == ".md" else "text/plain"


def _title(file: Path) -> str | None:
    try:
        with file.open(encoding="utf-8") as handle:
            for _, line in zip(range(30), handle, strict=False):
                if line.startswith("# "):
                    return line[2:].strip()
                if line.startswith("title:"):
                    return line.split(":", 1)[1].strip().strip("\"'")
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _reader(file: Path, uri: str):
    def read() -> str:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise ResourceNotFoundError(f"{uri} cannot be read") from None

    return read


def read_document(folder: str, name: str) -> str:
    uri = f"{SCHEME}://{folder}/{name}"
    base = bundle_root() / folder
    if _NAME.match(name):
        for candidate in (base / f"{name}.md", base / name):
            if candidate.is_file() and candidate.resolve().is_relative_to(base.resolve()):
                return _reader(candidate, uri)()
    raise ResourceNotFoundError(f"No document {uri}; resources/list names every one.")


def lint_rule_doc(rule_id: str) -> str:
    from dbpatterns.lint.docs import rule_markdown
    from dbpatterns.lint.registry import find_rule

    found = find_rule(rule_id)
    if found is None:
        raise ResourceNotFoundError(f"No lint rule {rule_id[:80]!r}; the list_rules tool names every one.")
    return rule_markdown(found)


def register_resources(server: MCPServer) -> None:
    for uri, file in documents().items():
        folder, name = uri.removeprefix(f"{SCHEME}://").split("/", 1)
        server.add_resource(
            FunctionResource(
                uri=uri,
                name=f"{folder}/{name}",
                title=_title(file),
                description=f"{folder[:-1] if folder.endswith('s') else folder} document of the skill",
                mime_type=_mime(file),
                fn=_reader(file, uri),
            )
        )
    for folder in FOLDERS:
        _template(server, folder)

    @server.resource(
        f"{SCHEME}://lint-rules/{{rule_id}}",
        name="lint-rule",
        title="A lint rule's documentation",
        description="What the rule checks, why, an example, what to use instead, and the safe recipe.",
        mime_type="text/markdown",
    )
    def lint_rule(rule_id: str) -> str:
        return lint_rule_doc(rule_id)


def _template(server: MCPServer, folder: str) -> None:
    @server.resource(
        f"{SCHEME}://{folder}/{{name}}",
        name=f"{folder}-document",
        title=f"A document of {folder}/",
        description=f"Any file of the skill's {folder}/ folder, by name without .md.",
        mime_type="text/markdown",
    )
    def document(name: str) -> str:
        return read_document(folder, name)


# ---- prompts


def register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="review_migration",
        title="Review a migration",
        description="Review a migration (a .sql file or an Alembic revision) for production safety.",
    )
    def review_migration(path: str) -> str:
        checklist = _first(f"{SCHEME}://checklists/", "review")
        return (
            f"Review the migration `{path}` for running safely against a busy production PostgreSQL.\n\n"
            "1. Call `lint_migration` with this path. For each finding, say which lock it takes on which "
            "table, whether it rewrites the table, and give its fix (use `explain_rule` when unsure).\n"
            "2. For raw SQL, call `trace_locks` with the path (and a setup that creates the tables it "
            "changes) to confirm the locks and rewrites on a real server; for an Alembic revision, "
            "`trace_locks` with `revision`.\n"
            "3. Check the rollback: is there a downgrade, and does it undo exactly this change?\n"
            + (f"4. Go through the checklist `{checklist}`.\n" if checklist else "")
            + "\nEnd with a verdict (safe / safe with changes / unsafe) and the rewritten migration when "
            "changes are needed. Do not run anything against a production database."
        )

    @server.prompt(
        name="plan_zero_downtime_change",
        title="Plan a zero-downtime schema change",
        description="Plan a schema change as expand / migrate / contract steps that never block traffic.",
    )
    def plan_zero_downtime_change(change: str, table: str = "") -> str:
        on = f" on table `{table}`" if table else ""
        guides = [uri for uri in documents() if "zero-downtime" in uri or "expand-contract" in uri]
        return (
            f"Plan this schema change{on} with zero downtime: {change}\n\n"
            "Split it into deployable steps (expand, backfill in batches, switch reads and writes, "
            "contract), each one a separate Alembic revision that is safe while the previous application "
            "version still runs. For every step: the SQL or the `generate_migration` pattern to use "
            "(list them with `generate_migration` pattern names such as add-column, add-index, backfill, "
            "rename-column, change-column-type), the lock it takes and for how long, how to roll it back, "
            "and what the application must do before the next step. Lint every step with "
            "`lint_migration` and trace the risky ones with `trace_locks`. Read first: "
            + (", ".join(f"`{uri}`" for uri in guides) if guides else f"the `{SCHEME}://rules/...` resources")
            + "."
        )


def _first(prefix: str, word: str) -> str | None:
    return next((uri for uri in documents() if uri.startswith(prefix) and word in uri), None)
