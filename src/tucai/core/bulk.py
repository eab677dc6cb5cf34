"""Fast multi-row inserts for bulk writes (roster import, its audit entries)."""

from __future__ import annotations

from django.db import connection


def bulk_insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Write many rows whose values are already what the database stores.

    Django's bulk_create spends most of its time preparing each value. On PostgreSQL this uses COPY
    (multi-row INSERTs spent seconds in psycopg's client-side parameter splitting); on SQLite a plain
    executemany, which its C loop runs fast."""
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # The raw psycopg cursor: wrap its errors so callers see django.db.IntegrityError etc.
            with connection.wrap_database_errors, cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"
            for i in range(0, len(rows), 5000):
                cur.executemany(sql, rows[i:i + 5000])
