from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL

LAPSED_DAYS = 90
LAPSED_LIMIT = 100


class DsDistributor(models.Model):
    _inherit = "ds.distributor"

    def _ds_autoship_team_sql(self):
        """SQL condition on ``a`` (ds_autoship): the subscriber is a distributor of this
        leader's subtree (the leader included) or a retail customer referred by one."""
        self.ensure_one()
        return SQL(
            """EXISTS (SELECT 1 FROM ds_distributor d
                         JOIN res_partner p ON p.id = a.partner_id
                        WHERE (d.partner_id = p.id OR d.id = p.ds_referrer_id)
                          AND d.company_id = %s AND %s)""",
            self.sudo().company_id.id,
            self._ds_prefix_condition(self.sudo().parent_path, "d"),
        )

    @api.model
    def _ds_next_period_window(self, leader):
        """(date_from, date_to) of the period after the current one (next calendar month
        when no such period exists yet)."""
        current, _previous = leader._ds_portal_periods()
        today = fields.Date.context_today(self)
        end = current.date_to if current else today
        nxt = (
            self.env["ds.period"]
            .sudo()
            .search(
                [
                    ("company_id", "=", leader.company_id.id),
                    ("date_from", ">", end),
                ],
                order="date_from",
                limit=1,
            )
        )
        if nxt:
            return nxt.date_from, nxt.date_to
        first = (end + relativedelta(days=1)).replace(day=1)
        if first <= end:
            first += relativedelta(months=1)
        return first, first + relativedelta(months=1, days=-1)

    def _ds_autoship_team_data(self):
        """The leader's team autoships: next period's forecast (orders and PV of the active
        autoships whose dates fall in it, each interval counted) and the lapsed ones
        (paused or cancelled in the last LAPSED_DAYS days). Set-based, own subtree only."""
        self.ensure_one()
        leader = self.sudo()
        date_from, date_to = self._ds_next_period_window(leader)
        team = leader._ds_autoship_team_sql()
        self.env.flush_all()  # raw SQL below reads autoships, lines and partners
        pv = self.env.execute_query(
            SQL(
                """
                WITH occ AS (
                    SELECT a.id, count(g.d) AS n
                      FROM ds_autoship a
                      CROSS JOIN LATERAL generate_series(
                               a.next_date::timestamp, %(to)s::timestamp,
                               make_interval(
                                   days => CASE a.interval_unit WHEN 'day' THEN a.interval_number
                                           WHEN 'week' THEN 7 * a.interval_number ELSE 0 END,
                                   months => CASE a.interval_unit WHEN 'month'
                                           THEN a.interval_number ELSE 0 END,
                                   years => CASE a.interval_unit WHEN 'year'
                                           THEN a.interval_number ELSE 0 END)) AS g(d)
                     WHERE a.state = 'active' AND a.next_date <= %(to)s AND %(team)s
                       AND g.d >= %(from)s::timestamp
                     GROUP BY a.id
                )
                SELECT COALESCE(sum(occ.n * l.quantity * COALESCE(t.ds_pv, 0)), 0)
                  FROM occ
                  JOIN ds_autoship_line l ON l.autoship_id = occ.id
                  JOIN product_product pp ON pp.id = l.product_id AND pp.active
                  JOIN product_template t ON t.id = pp.product_tmpl_id
                """,
                to=date_to,
                team=team,
                **{"from": date_from},
            )
        )[0][0]
        # orders: one per autoship x date, not per line
        orders = self.env.execute_query(
            SQL(
                """
                SELECT COALESCE(sum((SELECT count(*) FROM generate_series(
                           a.next_date::timestamp, %(to)s::timestamp,
                           make_interval(
                               days => CASE a.interval_unit WHEN 'day' THEN a.interval_number
                                       WHEN 'week' THEN 7 * a.interval_number ELSE 0 END,
                               months => CASE a.interval_unit WHEN 'month'
                                       THEN a.interval_number ELSE 0 END,
                               years => CASE a.interval_unit WHEN 'year'
                                       THEN a.interval_number ELSE 0 END)) g(d)
                        WHERE g.d >= %(from)s::timestamp)), 0)
                  FROM ds_autoship a
                 WHERE a.state = 'active' AND a.next_date <= %(to)s AND %(team)s
                """,
                to=date_to,
                team=team,
                **{"from": date_from},
            )
        )[0][0]
        since = fields.Datetime.now() - relativedelta(days=LAPSED_DAYS)
        lapsed_ids = [
            r[0]
            for r in self.env.execute_query(
                SQL(
                    """
                    SELECT a.id FROM ds_autoship a
                     WHERE a.state IN ('paused', 'cancelled') AND a.write_date >= %s AND %s
                     ORDER BY a.write_date DESC LIMIT %s
                    """,
                    since,
                    team,
                    LAPSED_LIMIT,
                )
            )
        ]
        return {
            "date_from": date_from,
            "date_to": date_to,
            "forecast_orders": int(orders),
            "forecast_pv": float(pv),
            "lapsed": self.env["ds.autoship"].sudo().browse(lapsed_ids),
        }
