"""One mask for every secret shape a URL or a libpq string can carry."""

from __future__ import annotations

import pytest

from dbpatterns.masking import mask


@pytest.mark.parametrize(
    "text, secret",
    [
        ("postgresql://app:s3cret@db:5432/prod", "s3cret"),
        ("postgresql+psycopg://app:p@ss:w0rd@db/prod failed", "p@ss:w0rd"),
        ("postgresql://app@db/prod?sslmode=require&password=hunter22", "hunter22"),
        ("host=db user=app password=hunter22 dbname=prod", "hunter22"),
        ("host=db password='quoted secret' dbname=prod", "quoted secret"),
        ("postgresql://app:pa%40ss%25word@db/prod", "pa%40ss%25word"),
    ],
)
def test_passwords_are_masked_in_any_shape(text, secret):
    masked = mask(text)
    assert secret not in masked and "***" in masked
    assert "db" in masked  # the rest stays readable


def test_a_known_url_masks_its_password_wherever_it_appears_in_every_form():
    url = "postgresql://app:pa%40ss@db/prod"
    text = "connect failed for pa@ss (pa%40ss) and pa%2540ss"
    masked = mask(text, url)
    assert "pa@ss" not in masked and "pa%40ss" not in masked


def test_text_without_secrets_is_unchanged():
    text = "ALTER TABLE t ADD COLUMN password text; -- user@example.com"
    assert mask(text) == text


@pytest.mark.parametrize(
    "value", ["host=db user=app password=hunter22", "mysql://app:hunter22@db/x", "hunter22-secret-token"]
)
def test_a_value_that_is_not_a_postgresql_url_is_never_echoed(value):
    from dbpatterns.errors import InputError
    from dbpatterns.trace.database import libpq_url

    with pytest.raises(InputError) as caught:
        libpq_url(value)
    assert "hunter22" not in str(caught.value) and "postgresql://" in str(caught.value)
