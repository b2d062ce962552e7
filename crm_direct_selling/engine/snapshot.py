"""The period's volume snapshot (ds_bt_vol), the refunds clawed back (ds_bt_claw_move,
ds_bt_claw) and the empty line tables (ds_bt_line, ds_bt_uni_line) every step writes to."""

from odoo.tools import SQL

from .sql import bulk_settings, drop_temp_tables


def prepare(ctx):
    cr, plan, period = ctx.cr, ctx.plan, ctx.period
    fs_days = plan.fast_start_days
    bulk_settings(cr)
    drop_temp_tables(cr)
    # 1. the period's volumes with the genealogy snapshot. Eligibility (active, good
    #    standing) is the status snapshot of the volumes (when they were computed; for a
    #    closed period, at its close; rows of older versions: the current status); a
    #    distributor who is not active now has their payout held (step 11).
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_vol ON COMMIT DROP AS
           SELECT v.distributor_id, v.sponsor_id, COALESCE(v.bv, 0)::numeric AS bv,
                  (COALESCE(v.is_active, FALSE)
                   AND COALESCE(v.distributor_state, d.state) = 'active') AS active,
                  COALESCE(v.distributor_state, d.state) = 'active' AS good_standing,
                  d.state <> 'active' AS held,
                  COALESCE(r.paid_levels, 0) AS paid_levels,
                  COALESCE(r.sequence, -1) AS rank_seq,
                  v.paid_rank_id, COALESCE(v.new_rank, FALSE) AS new_rank,
                  COALESCE(pr.sequence, -1) AS prior_seq,
                  d.enrollment_date, 0::numeric AS claw_bv
           FROM ds_volume v
           JOIN ds_distributor d ON d.id = v.distributor_id
           LEFT JOIN ds_rank r ON r.id = v.paid_rank_id
           LEFT JOIN ds_rank pr ON pr.id = v.prior_highest_rank_id
           WHERE v.period_id = %s""",
            period.id,
        )
    )
    cr.execute(SQL("CREATE UNIQUE INDEX ON ds_bt_vol (distributor_id)"))
    cr.execute(SQL("ANALYZE ds_bt_vol"))
    # 2. refunds posted in this period of invoices whose volume was paid by a posted
    #    run of this plan in a closed period: clawed back by adjustment lines, and
    #    excluded from this period's bases so they are not deducted twice.
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_claw_move ON COMMIT DROP AS
           SELECT m.id AS move_id, m.ds_distributor_id AS distributor_id,
                  om.ds_period_id AS orig_period_id, r0.id AS orig_run_id,
                  om.invoice_date AS orig_invoice_date,
                  NOT EXISTS (SELECT 1 FROM ds_distributor b
                              WHERE b.partner_id = m.commercial_partner_id) AS retail
           FROM account_move m
           JOIN account_move om ON om.id = m.reversed_entry_id
           JOIN ds_period op ON op.id = om.ds_period_id AND op.state = 'closed'
           JOIN ds_bonus_run r0 ON r0.period_id = op.id AND r0.plan_id = %(plan)s
                AND r0.state = 'posted' AND NOT COALESCE(r0.simulation, FALSE)
           WHERE m.ds_period_id = %(period)s AND om.ds_period_id <> %(period)s
             AND m.move_type = 'out_refund' AND m.state = 'posted'
             AND m.ds_distributor_id IS NOT NULL""",
            plan=plan.id,
            period=period.id,
        )
    )
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_claw ON COMMIT DROP AS
           SELECT c.distributor_id, c.orig_run_id,
                  SUM(l.ds_bv)::numeric AS bv,
                  COALESCE(SUM(l.ds_bv) FILTER (WHERE c.retail), 0)::numeric AS retail_bv,
                  COALESCE(SUM(-l.balance) FILTER (WHERE c.retail), 0)::numeric AS retail_sales,
                  COALESCE(SUM(l.ds_bv) FILTER (
                      WHERE c.orig_invoice_date < d.enrollment_date + %(days)s), 0
                  )::numeric AS fast_bv
           FROM ds_bt_claw_move c
           JOIN account_move_line l ON l.move_id = c.move_id AND l.display_type = 'product'
           JOIN ds_distributor d ON d.id = c.distributor_id
           GROUP BY c.distributor_id, c.orig_run_id""",
            days=fs_days,
        )
    )
    cr.execute(
        SQL(
            """UPDATE ds_bt_vol v SET claw_bv = c.bv
           FROM (SELECT distributor_id, SUM(bv) AS bv FROM ds_bt_claw GROUP BY 1) c
           WHERE c.distributor_id = v.distributor_id"""
        )
    )
    cr.execute(
        SQL(
            """CREATE TEMP TABLE ds_bt_line (
               earner_id integer NOT NULL, bonus_type varchar NOT NULL,
               source_id integer, level integer NOT NULL DEFAULT 0,
               base numeric NOT NULL DEFAULT 0, rate numeric NOT NULL DEFAULT 0,
               raw numeric NOT NULL, origin_line_id integer
           ) ON COMMIT DROP;
           -- the unilevel lines (millions) apart: they are aggregated once per earner
           CREATE TEMP TABLE ds_bt_uni_line (LIKE ds_bt_line INCLUDING DEFAULTS) ON COMMIT DROP"""
        )
    )
