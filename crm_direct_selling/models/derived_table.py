"""Tables of derived data written set-based in millions of rows (volumes, bonus lines).

ds.volume and ds.bonus.line are ``_auto = False``: their table is created here, not by the ORM,
so that it carries no foreign-key constraints. A foreign key costs PostgreSQL one trigger call per
row and per key on every INSERT (about 4 seconds per million rows and per key on the 2-core
reference machine: 37 of the 50 seconds of writing one million volume rows); these rows are only
ever written by the volume step and the bonus run from ids they have just read, inside the same
transaction. The ``ondelete`` behaviour of their relations is kept by the ORM: the models they
point to clean them up in ``unlink`` (see ``cascade_unlink`` and its callers), and tests check it.
"""

from odoo.tools import SQL


def ensure_table(cr, table, columns, indexes=(), unique=()):
    """Create ``table`` (id serial primary key + ``columns``) if missing, or bring it up to date.

    ``columns``: (name, sql type) pairs; ``indexes``: (name, column list[, where clause]); ``unique``:
    (name, column list) pairs of unique constraints. An existing table (e.g. made by the ORM in an
    earlier version) gets the missing columns, loses its foreign keys and its create/write
    columns, and keeps its data.
    """
    cr.execute(
        SQL(
            "CREATE TABLE IF NOT EXISTS %s (id SERIAL PRIMARY KEY, %s)",
            SQL.identifier(table),
            SQL(", ").join(SQL("%s %s", SQL.identifier(n), SQL(t)) for n, t in columns),
        )
    )
    # ids drawn 1,000 at a time per session: a bulk write of millions of rows otherwise
    # takes the sequence's buffer lock for each row (4.5M bonus lines: 2.4 s of nextval);
    # the ids a session leaves unused are gaps, which nothing relies on
    cr.execute(SQL("SELECT pg_get_serial_sequence(%s, 'id')", table))
    sequence = cr.fetchone()[0]
    if sequence:
        cr.execute(SQL("ALTER SEQUENCE %s CACHE 1000", SQL(sequence)))
    for name, sqltype in columns:
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s",
                SQL.identifier(table),
                SQL.identifier(name),
                SQL(sqltype),
            )
        )
    # a table made by the ORM in an earlier version keeps its create/write user and date
    # columns: derived rows carry none (their computation is dated on the run / period)
    cr.execute(
        SQL(
            "ALTER TABLE %s %s",
            SQL.identifier(table),
            SQL(", ").join(
                SQL("DROP COLUMN IF EXISTS %s", SQL.identifier(column))
                for column in ("create_uid", "create_date", "write_uid", "write_date")
            ),
        )
    )
    cr.execute(
        SQL(
            """SELECT conname FROM pg_constraint
                WHERE conrelid = %s::regclass AND contype = 'f'""",
            table,
        )
    )
    for (conname,) in cr.fetchall():
        cr.execute(
            SQL(
                "ALTER TABLE %s DROP CONSTRAINT %s",
                SQL.identifier(table),
                SQL.identifier(conname),
            )
        )
    for name, cols in unique:
        cr.execute(
            SQL(
                """SELECT 1 FROM pg_constraint
                    WHERE conrelid = %s::regclass AND conname = %s""",
                table,
                name,
            )
        )
        if not cr.rowcount:
            cr.execute(
                SQL(
                    "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)",
                    SQL.identifier(table),
                    SQL.identifier(name),
                    SQL(", ").join(SQL.identifier(c) for c in cols),
                )
            )
    for name, cols, *where in indexes:
        cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS %s ON %s (%s)%s",
                SQL.identifier(name),
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(c) for c in cols),
                SQL(" WHERE %s", SQL(where[0])) if where else SQL(),
            )
        )


def drop_indexes(cr, names):
    """Drop indexes an earlier version created (the ORM's per-field indexes)."""
    for name in names:
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))


def unlink_and_apply(records, unlink, rules):
    """``unlink()`` (the ORM's, checks included) then ``apply_ondelete`` on the deleted ids."""
    ids = records.ids
    res = unlink()
    apply_ondelete(records.env, ids, rules)
    return res


def apply_ondelete(env, ids, rules):
    """After deleting records ``ids``: apply ``rules``, (table, column, mode) triples, and drop
    the cached values of the models stored in those tables."""
    for table, column, mode in rules:
        cascade_unlink(env.cr, table, column, ids, mode)
    tables = {table for table, _column, _mode in rules}
    for model in env.registry.values():
        if model._table in tables and not model._abstract:
            env[model._name].invalidate_model()


def cascade_unlink(cr, table, column, ids, mode):
    """Apply an ``ondelete`` rule by hand: rows of ``table`` whose ``column`` is in ``ids`` are
    deleted (``mode='cascade'``) or get NULL (``mode='set null'``)."""
    if not ids:
        return
    if mode == "cascade":
        cr.execute(
            SQL(
                "DELETE FROM %s WHERE %s = ANY(%s)",
                SQL.identifier(table),
                SQL.identifier(column),
                list(ids),
            )
        )
    else:
        cr.execute(
            SQL(
                "UPDATE %s SET %s = NULL WHERE %s = ANY(%s)",
                SQL.identifier(table),
                SQL.identifier(column),
                SQL.identifier(column),
                list(ids),
            )
        )
