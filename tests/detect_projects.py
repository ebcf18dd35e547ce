"""A small Alembic project whose models can be edited one change at a time, for the detect tests.

The history makes exactly what ``MODELS`` declares, so detect on the unedited project finds nothing; each
test edits the models' text (``edit``) and checks what detect says about that one edit.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from tests.alembic_builder import write_project

HISTORY = (
    """
    op.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
    op.create_table("customers", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table("legacy", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", name="fk_orders_customer")),
        sa.Column("buyer_id", sa.Integer),
        sa.Column("note", sa.Text),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("code", sa.String(10)),
        sa.Column("status", sa.Text, server_default="new"),
        sa.Column("m", sa.Enum(name="mood", create_type=False)),
        sa.CheckConstraint("qty >= 0", name="ck_orders_qty"),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    """,
    """
    op.drop_table("orders")
    op.drop_table("legacy")
    op.drop_table("customers")
    op.execute("DROP TYPE mood")
    """,
)

MODELS = """
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, mapped_column


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id = mapped_column(sa.Integer, primary_key=True)


class Legacy(Base):
    __tablename__ = "legacy"
    id = mapped_column(sa.Integer, primary_key=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (sa.CheckConstraint("qty >= 0", name="ck_orders_qty"),)
    id = mapped_column(sa.Integer, primary_key=True)
    customer_id = mapped_column(
        sa.Integer, sa.ForeignKey("customers.id", name="fk_orders_customer"), index=True
    )
    buyer_id = mapped_column(sa.Integer, nullable=True)
    note = mapped_column(sa.Text, nullable=True)
    qty = mapped_column(sa.Integer, nullable=False)
    code = mapped_column(sa.String(10), nullable=True)
    status = mapped_column(sa.Text, server_default="new", nullable=True)
    m = mapped_column(sa.Enum("sad", "ok", name="mood"), nullable=True)
    # EXTRA
"""

_numbers = itertools.count()


def edit(*replacements: tuple[str, str]) -> str:
    """``MODELS`` with each (old, new) replaced; every old text must be there exactly once."""
    text = MODELS
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


PRODUCT = """

class Product(Base):
    __tablename__ = "products"
    id = mapped_column(sa.Integer, primary_key=True)
"""


def extra(line: str) -> str:
    return edit(("    # EXTRA", f"    {line}"))


def make_project(
    root: Path, models: str = MODELS, *, env: str = "sync", history=(HISTORY,)
) -> tuple[Path, str]:
    """Write the project; returns (folder, models spec). Every project gets its own models module."""
    module = f"detect_models_{next(_numbers)}"
    from tests.alembic_builder import linear

    write_project(root, linear(*history), env=env, models_code=models, module=module)
    return root, f"{module}:Base"


def add_script_template(root: Path) -> None:
    """Alembic's own script.py.mako (``alembic init`` writes it; --write renders revisions from it)."""
    import alembic

    source = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"
    shutil.copy(source, root / "migrations" / "script.py.mako")
