"""SQL fragments shared by RFM, measurement and reports."""

from contextlib import contextmanager

from odoo.tools import SQL

# settings for the few set-based statements that sort, hash or aggregate a million rows: sorts and
# hashes in memory instead of temporary files, and no JIT (its compilation of these large
# expression trees costs more than it saves)
BULK_SETTINGS = {"work_mem": "256MB", "jit": "off"}


@contextmanager
def bulk_settings(cr, **extra):
    """Raise work_mem and turn JIT off for the statements run inside, then restore both.

    set_config(..., true) is local to the transaction; the previous values are put back on exit
    so that the rest of the transaction runs with the normal settings. Fetch results (and read
    rowcount) inside the block: restoring runs a statement on the same cursor. Keyword arguments
    set further settings the same way (e.g. enable_hashagg="off").
    """
    settings = {**BULK_SETTINGS, **extra}
    names = list(settings)
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(SQL("current_setting(%s)", name) for name in names),
        )
    )
    previous = dict(zip(names, cr.fetchone(), strict=True))
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(
                SQL("set_config(%s, %s, true)", name, value)
                for name, value in settings.items()
            ),
        )
    )
    # no restore after an error: the transaction (or savepoint) is rolled back, and so are the
    # local settings
    yield
    cr.execute(
        SQL(
            "SELECT %s",
            SQL(", ").join(
                SQL("set_config(%s, %s, true)", name, value)
                for name, value in previous.items()
            ),
        )
    )


def hash32(seed, key_sql):
    """Deterministic integer in [0, 2^32): the first 32 bits of md5(seed || ':' || key)."""
    return SQL(
        "('x' || substr(md5(%s || ':' || (%s)::text), 1, 8))::bit(32)::bigint",
        seed or "",
        key_sql,
    )


def uniform_hash(seed, key_sql):
    """Deterministic pseudo-uniform number in [0, 1) from md5(seed || ':' || key)."""
    return SQL("(%s / 4294967296.0)", hash32(seed, key_sql))


def holdout_condition(company, partner_sql):
    """SQL true when the partner is in the company's global holdout."""
    if not company.ds_holdout_pct:
        return SQL("FALSE")
    return SQL(
        "%s < %s",
        uniform_hash("holdout:" + (company.ds_holdout_seed or ""), partner_sql),
        company.ds_holdout_pct / 100.0,
    )


def partner_moves(company_id, date_from, date_to, with_cost=False):
    """Posted customer invoices and refunds keyed to the partner they count for.

    A customer (partner without distributor) gets their own invoices; a distributor gets the
    invoices attributed to them (their own and their retail customers', account.move
    ds_distributor_id). Columns: partner_id, move_id, move_type, invoice_date, revenue
    (untaxed, signed), pv (signed), cost (signed quantity x product cost, when with_cost),
    is_distributor (which branch the row comes from: the partner's own invoices as a customer,
    or the invoices attributed to the partner as a distributor). The moves query is inlined in
    both branches (NOT MATERIALIZED): the distributor branch then reads account_move by its
    ds_distributor_id index instead of a materialized copy of every move of the period.
    """
    cost = SQL("0.0")
    if with_cost:
        cost = SQL(
            """COALESCE((SELECT SUM(CASE WHEN m.move_type = 'out_refund' THEN -1 ELSE 1 END * l.quantity
                               * COALESCE((pp.standard_price ->> m.company_id::text)::numeric, 0))
                          FROM account_move_line l JOIN product_product pp ON pp.id = l.product_id
                         WHERE l.move_id = m.id AND l.display_type = 'product'), 0)"""
        )
    moves = SQL(
        """SELECT m.id, m.move_type, m.invoice_date, m.amount_untaxed_signed AS revenue,
                  COALESCE(m.ds_pv_total, 0) AS pv, m.commercial_partner_id, m.ds_distributor_id,
                  %(cost)s AS cost
             FROM account_move m
            WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
              AND m.company_id = %(company)s
              AND m.invoice_date >= %(date_from)s AND m.invoice_date <= %(date_to)s""",
        cost=cost,
        company=company_id,
        date_from=date_from,
        date_to=date_to,
    )
    return SQL(
        """WITH mv AS NOT MATERIALIZED (%(moves)s)
           SELECT mv.commercial_partner_id AS partner_id, mv.id AS move_id, mv.move_type, mv.invoice_date,
                  mv.revenue, mv.pv, mv.cost, FALSE AS is_distributor
             FROM mv JOIN res_partner p ON p.id = mv.commercial_partner_id
            WHERE p.ds_distributor_id IS NULL
           UNION ALL
           SELECT d.partner_id, mv.id, mv.move_type, mv.invoice_date, mv.revenue, mv.pv, mv.cost, TRUE
             FROM mv JOIN ds_distributor d ON d.id = mv.ds_distributor_id""",
        moves=moves,
    )
