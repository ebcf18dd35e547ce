"""What :mod:`dbpatterns.drift` runs: :func:`check_drift`, and :func:`read_db_file` for ``--db-file``."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..alembic.models import load_metadata
from ..alembic.project import as_project
from ..checksums import check_project_sums, file_checksum, save_memo
from ..errors import InputError
from .compare import destination, log_differences, normalize, revision_status, schema_differences
from .history import History, models_key
from .live import Target, compare_models, read_live
from .model import Difference, DriftReport, DriftSummary


def check_drift(
    project_dir: str | os.PathLike,
    urls: list[str],
    *,
    schemas: list[str] | None = None,
    models: str | None = None,
    server=None,
    cache: bool = True,
    progress=None,
) -> DriftSummary:
    """Check every URL (each tenant schema of it, with ``schemas``). ``server``: a running
    :class:`dbpatterns.pg.Server` for the scratch databases (default: a throwaway one, started only when
    the history's schema is not in the cache), or a :class:`dbpatterns.trace.database.UserServer`
    (its role is used as given). ``cache=False``: always run the history. ``progress(text)``: told each
    step (the revision N of M the history is at), for a terminal."""
    if not urls:
        raise InputError("drift: give --db URL (or --db-file FILE)")
    project = as_project(project_dir)
    targets = [Target(url, schema) for url in urls for schema in (schemas or [None])]
    history = History(project, server, cache=cache, progress=progress)
    # No cycle collection meanwhile: a cold run allocates millions of objects (the models, Alembic's
    # operations, autogenerate's reflection) and the collector would walk them again and again; the
    # garbage left is collected after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        summary = _check(history, targets, models)
        summary.run_as = history.access
        return summary
    finally:
        if collecting:
            gc.enable()
        history.close()
        save_memo()


def _check(history, targets: list, models: str | None) -> DriftSummary:
    project = history.project
    cached_heads = history.cached_heads()
    if cached_heads is None or not history.cached("snapshot", *cached_heads):
        history.start_server()  # it boots while the revisions and the models are imported
    graph = history.graph()
    spec = models or project.settings.models
    loaded: list = []

    def metadata():  # imported only when the cache does not have the answer
        if not loaded:
            loaded.append(load_metadata(spec, project.root))
        return loaded[0]

    models_hash = models_key(spec, project.root) if spec else ""
    heads = tuple(graph.heads)
    if spec and not (models_hash and history.cached("models", models_hash, *heads)):
        history.start_server()
    sum_problems = [
        Difference("checksum", p.path, f"sum file: {p.detail}", "checksum", p.change)
        for p in check_project_sums(project).problems
    ]
    sums: dict[str, str | None] = {}

    def file_sum(revision: str) -> str | None:  # only for the revisions a migration log names
        if revision not in sums:
            path = graph.paths.get(revision)
            sums[revision] = file_checksum(path) if path is not None else None
        return sums[revision]

    reports = []
    if history.progress is not None:
        history.progress(f"drift: reading {len(targets)} database(s)")
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        futures = [pool.submit(read_live, target) for target in targets]
        if spec:  # while the targets are read; the history runs once for the schema and the models
            history.model_differences(heads, models_hash, metadata)
        history.expected(heads)
        for target, future in zip(targets, futures, strict=True):
            try:
                state = future.result()
            except InputError as exc:
                if len(targets) == 1:
                    raise
                reports.append(DriftReport(target.label, error=str(exc)))
                continue
            revision = revision_status(graph, state.versions)
            at = destination(revision)
            expected = history.expected(at)
            if target.schema:
                expected = normalize(expected, "public")
                live = normalize(state.snapshot, target.schema)
            else:
                expected, live = normalize(expected), normalize(state.snapshot)
            found = schema_differences(expected, live)
            if spec:
                # a database whose catalog is the history's at the heads compares with the models as
                # the history does (autogenerate reads nothing our snapshot does not cover)
                if at == heads and not found:
                    model = history.model_differences(heads, models_hash, metadata)
                else:
                    model = compare_models(target, metadata())
                found += [Difference(k, o, detail, "models", c) for k, o, c, detail in model]
            found += sum_problems
            found += log_differences(graph, state.log, file_sum)
            reports.append(DriftReport(target.label, revision, found, list(at)))
    return DriftSummary(reports)


def read_db_file(path: str) -> list[str]:
    """URLs from a file, one a line; blank lines and ``#`` comments are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--db-file {path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
