"""SQL fragments shared by RFM, measurement and reports."""

from odoo.tools import SQL


def uniform_hash(seed, key_sql):
    """Deterministic pseudo-uniform number in [0, 1) from md5(seed || ':' || key)."""
    return SQL(
        "(('x' || substr(md5(%s || ':' || (%s)::text), 1, 8))::bit(32)::bigint / 4294967296.0)",
        seed or "",
        key_sql,
    )


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
    (untaxed, signed), pv (signed), cost (signed quantity x product cost, when with_cost).
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
        """WITH mv AS (%(moves)s)
           SELECT mv.commercial_partner_id AS partner_id, mv.id AS move_id, mv.move_type, mv.invoice_date,
                  mv.revenue, mv.pv, mv.cost
             FROM mv JOIN res_partner p ON p.id = mv.commercial_partner_id
            WHERE p.ds_distributor_id IS NULL
           UNION ALL
           SELECT d.partner_id, mv.id, mv.move_type, mv.invoice_date, mv.revenue, mv.pv, mv.cost
             FROM mv JOIN ds_distributor d ON d.id = mv.ds_distributor_id""",
        moves=moves,
    )
