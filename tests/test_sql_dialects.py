"""Another database's SQL is named from pglast's scanner tokens (dbpatterns.sql.dialects)."""

from __future__ import annotations

import pytest

from dbpatterns.sql.dialects import other_dialect


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE `users` ADD COLUMN a int", ("MySQL", "backquoted identifiers")),
        ("alter table users modify name varchar(10)", ("MySQL", "ALTER TABLE ... MODIFY")),
        ("ALTER TABLE users CHANGE COLUMN a b int", ("MySQL", "ALTER TABLE ... CHANGE")),
        ("UPDATE a AS x INNER JOIN b ON b.id = x.b SET x.n = 1", ("MySQL", "UPDATE ... JOIN")),
        ("SELECT 1; ALTER TABLE t DROP FOREIGN KEY fk", ("MySQL", "DROP FOREIGN KEY")),
        ("DROP INDEX ix_a ON t", ("MySQL", "DROP INDEX ... ON")),
        ("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE n = 2", ("MySQL", "ON DUPLICATE KEY UPDATE")),
        (
            "ALTER TABLE tags CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            ("MySQL", "a table's CHARACTER SET"),
        ),
        ("ALTER TABLE tags CHARACTER SET utf8mb4", ("MySQL", "a table's CHARACTER SET")),
        ("ALTER TABLE app.tags CHARACTER SET utf8mb4", ("MySQL", "a table's CHARACTER SET")),
        ("ALTER TABLE t DEFAULT CHARSET=utf8", ("MySQL", "a table's CHARACTER SET")),
        ("PRAGMA foreign_keys=OFF", ("SQLite", "PRAGMA")),
        ("UPDATE OR REPLACE t SET n = 1", ("SQLite", "INSERT OR/UPDATE OR")),
        # words inside a string constant or a quoted name are no sign
        ("INSERT INTO t VALUES ('ENGINE=InnoDB') RETURNING", None),
        ('ALTER TABLE t ADD "modify" int int', None),
        ("ALTER TABLE t ALTER COLUMN c TYPE", None),
        ("SELECT 'unterminated", None),
    ],
)
def test_signs_of_another_database(sql, expected):
    assert other_dialect(sql) == expected
