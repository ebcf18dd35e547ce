"""SQLAlchemy 2.x typed models of the example shop: exactly the schema the migrations build at head.

`dbpatterns verify --project examples/project` compares them with the migrated database (models_match).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class PaymentMethod(enum.StrEnum):
    card = "card"
    invoice = "invoice"
    wallet = "wallet"


def _created_at() -> Mapped[datetime]:
    return mapped_column(sa.DateTime(timezone=True), server_default=sa.text("now()"))


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("email", name="uq_customers_email"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    email: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = _created_at()


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        sa.UniqueConstraint("sku", name="uq_products_sku"),
        sa.CheckConstraint("price_cents >= 0", name="ck_products_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    sku: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str] = mapped_column(sa.Text)
    price_cents: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = _created_at()


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.CheckConstraint("total_cents >= 0", name="ck_orders_total_not_negative"),
        sa.Index("ix_orders_customer_id", "customer_id"),
        sa.Index("ix_orders_created_at", "created_at"),
        sa.Index("ix_orders_product_id", "product_id"),
        sa.Index("ix_orders_unshipped", "created_at", postgresql_where=sa.text("shipped_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.BigInteger, sa.ForeignKey("customers.id"))
    total_cents: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = _created_at()
    status: Mapped[str] = mapped_column(sa.Text, server_default="new")
    product_id: Mapped[int | None] = mapped_column(
        sa.BigInteger, sa.ForeignKey("products.id", name="fk_orders_product_id")
    )
    payment_method: Mapped[PaymentMethod | None] = mapped_column(
        sa.Enum(PaymentMethod, name="payment_method", values_callable=lambda e: [m.value for m in e])
    )
    shipped_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
