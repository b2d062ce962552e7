"""SQL fragments shared by several steps of the bonus engine.

Temp tables of a run (``ON COMMIT DROP``, dropped again at the end of the run):

- ``ds_bt_vol`` (snapshot.py): one row per distributor with a volume in the period
- ``ds_bt_claw_move``, ``ds_bt_claw`` (snapshot.py): refunds clawed back by adjustments
- ``ds_bt_line`` (snapshot.py creates it; every bonus step inserts into it):
  earner_id, bonus_type, source_id, level, base, rate, raw, origin_line_id
- ``ds_bt_uni_line``, ``ds_bt_uni`` (unilevel.py): the unilevel lines and their sums per
  earner (amount = sum of the rounded lines, raw, lines = count of non-zero rounded lines)
- ``ds_bt_cap`` (cap.py), ``ds_bt_earner_type``, ``ds_bt_earner`` (finalize.py)
"""

from odoo.tools import SQL

TEMP_TABLES = (
    "ds_bt_vol",
    "ds_bt_claw_move",
    "ds_bt_claw",
    "ds_bt_line",
    "ds_bt_uni_line",
    "ds_bt_uni",
    "ds_bt_cap",
    "ds_bt_earner",
    "ds_bt_earner_type",
)


def drop_temp_tables(cr):
    cr.execute(
        SQL(
            "DROP TABLE IF EXISTS ds_bt_vol, ds_bt_claw_move, ds_bt_claw, ds_bt_line, "
            "ds_bt_uni_line, ds_bt_uni, ds_bt_cap, ds_bt_earner, ds_bt_earner_type"
        )
    )


# local buffers of the temp tables of millions of rows (the run's and the volume step's):
# with the default 8MB every pass over them goes through the kernel's files (at 1,000,000
# distributors the run took 83 s with 8MB and 54 s with 1GB, the volume step 22 s and 16 s)
TEMP_BUFFERS_KB = 1024 * 1024


def try_temp_buffers(cr):
    """Raise temp_buffers to TEMP_BUFFERS_KB for this transaction when the server setting is
    lower and PostgreSQL still allows it: it refuses to change temp_buffers once the session
    has used a temporary table, and a session without a temporary schema yet has not. Local
    buffers are allocated as they are used, so small work keeps its small footprint. (The
    server setting, ``temp_buffers = 1GB`` in postgresql.conf, covers every session.)"""
    cr.execute(
        SQL(
            """SELECT set_config('temp_buffers', %(kb)s || 'kB', true)
                WHERE pg_my_temp_schema() = 0
                  AND (SELECT setting::int8 * 8 FROM pg_settings
                        WHERE name = 'temp_buffers') < %(kb)s""",
            kb=TEMP_BUFFERS_KB,
        )
    )


def bulk_settings(cr):
    """Settings of the run's big statements, until the end of the transaction: the sorts
    and hashes of millions of lines stay in memory (at 1,000,000 distributors the final sort
    of 4.5M lines needs about 700MB; with 256MB it merged 310MB through disk); no JIT
    compilation (each statement above jit_above_cost spent 0.1-2 s compiling its
    expressions, more than it saved)."""
    try_temp_buffers(cr)
    cr.execute(
        SQL(
            "SELECT set_config('work_mem', '1GB', true), set_config('jit', 'off', true)"
        )
    )


def period_lines(ctx):
    """Invoice lines of the period credited to a distributor (not clawed back)."""
    return SQL(
        """FROM account_move_line l
           JOIN account_move m ON m.id = l.move_id
           WHERE m.ds_period_id = %(period)s AND m.state = 'posted'
             AND m.move_type IN ('out_invoice', 'out_refund')
             AND m.ds_distributor_id IS NOT NULL AND l.display_type = 'product'
             AND NOT EXISTS (SELECT 1 FROM ds_bt_claw_move c WHERE c.move_id = m.id)""",
        period=ctx.period.id,
    )


def period_moves(ctx):
    """The same invoices, whole (their stored PV/BV totals)."""
    return SQL(
        """FROM account_move m
           WHERE m.ds_period_id = %(period)s AND m.state = 'posted'
             AND m.move_type IN ('out_invoice', 'out_refund')
             AND m.ds_distributor_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM ds_bt_claw_move c WHERE c.move_id = m.id)""",
        period=ctx.period.id,
    )


def rounded(ctx, lines, where=None):
    """The final lines of ``lines``: each its raw amount rounded to the currency."""
    return SQL(
        """SELECT t.earner_id, t.bonus_type, t.source_id, t.level,
                  ROUND(t.base, %(digits)s) AS base, t.rate,
                  ROUND(t.raw, %(digits)s) AS amount, t.origin_line_id
             FROM %(lines)s t %(where)s""",
        digits=ctx.digits,
        lines=lines,
        where=where or SQL(),
    )


# every line of the run: the unilevel ones are kept apart (millions)
ALL_LINES = SQL("(SELECT * FROM ds_bt_line UNION ALL SELECT * FROM ds_bt_uni_line)")
