"""database-patterns: safe PostgreSQL schema changes with Alembic and SQLAlchemy 2.x."""


def __getattr__(name: str):
    """``__version__``, read from the installed package's metadata when first asked for (PEP 562)."""
    if name != "__version__":
        raise AttributeError(f"module 'dbpatterns' has no attribute {name!r}")
    # lazy: importlib.metadata is loaded only when __version__ is asked for, never by a lint
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("database-patterns")
    except PackageNotFoundError:  # run from a checkout that is not installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
