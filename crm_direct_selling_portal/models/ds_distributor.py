from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, email_normalize, format_date
from odoo.tools.misc import hmac as hmac_tool

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager


class DsDistributor(models.Model):
    _inherit = "ds.distributor"

    ds_portal_share_contact = fields.Boolean(
        string="Share Contact Details in Portal",
        help="When set, the distributor's email, phone and city are shown to their "
        "upline leaders in the portal.",
    )
    ds_portal_user_count = fields.Integer(
        string="Portal Users", compute="_compute_ds_portal_user_count"
    )

    @api.depends("partner_id.user_ids")
    def _compute_ds_portal_user_count(self):
        for distributor in self:
            distributor.ds_portal_user_count = len(
                distributor.partner_id.user_ids.filtered(lambda u: u._is_portal())
            )

    # ------------------------------------------------------------------
    # Portal access
    # ------------------------------------------------------------------
    def action_ds_grant_portal(self):
        """Give every selected distributor a portal user and send the welcome mail.

        Distributors that already have a portal or internal user are skipped; a
        missing or invalid email is refused with the distributor named.
        """
        ds_check_manager(self.env, _("grant portal access to distributors"), self)
        bad = self.filtered(lambda d: not email_normalize(d.email or ""))
        if bad:
            raise UserError(
                _(
                    "These distributors have no valid email address, so no portal "
                    "access can be granted: %s",
                    ", ".join(bad.mapped(lambda d: f"{d.code} {d.name}")),
                )
            )
        wizard = (
            self.env["portal.wizard"]
            .sudo()
            .create({"partner_ids": [Command.set(self.partner_id.ids)]})
        )
        granted = self.env["res.partner"]
        for wizard_user in wizard.user_ids:
            if wizard_user.is_portal or wizard_user.is_internal:
                continue
            wizard_user.action_grant_access()
            granted |= wizard_user.partner_id
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _(
                    "Portal access granted to %(count)s distributor(s); %(skipped)s "
                    "already had access.",
                    count=len(granted),
                    skipped=len(self) - len(granted),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # Subtree helpers used by the portal (set-based, no Python recursion)
    # ------------------------------------------------------------------
    @api.model
    def _ds_portal_current(self):
        """The distributor of the current user (sudo record) or an empty recordset."""
        partner = self.env.user.partner_id
        return self.sudo().search(
            [("partner_id", "=", partner.id), ("state", "!=", "terminated")], limit=1
        )

    @api.model
    def _ds_prefix_condition(self, prefix, alias):
        """Rows of ``alias`` whose parent_path starts with ``prefix``; through the
        core's helper (which uses its bounded prefix index) when available."""
        if hasattr(self, "_ds_path_prefix_sql"):
            return self._ds_path_prefix_sql(prefix or "-", alias=alias)
        return SQL(
            "%s LIKE %s", SQL.identifier(alias, "parent_path"), (prefix or "-") + "%"
        )

    def init(self):
        res = super().init()
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cr.fetchone():
            cr.execute(
                SQL(
                    "CREATE INDEX IF NOT EXISTS ds_distributor_ds_portal_code_trgm_idx"
                    " ON ds_distributor USING gin (code gin_trgm_ops)"
                )
            )
        return res

    def _ds_path_prefix(self):
        self.ensure_one()
        path = self.sudo().parent_path or ""
        # parent_path only holds digits and slashes: no LIKE wildcard to escape
        return path + "%"

    def _ds_check_in_downline(self, distributor_id, include_self=False):
        """Return the sudo record of ``distributor_id`` if it is in this leader's
        subtree, else raise AccessError. Never loads the subtree."""
        self.ensure_one()
        try:
            distributor_id = int(distributor_id)
        except (TypeError, ValueError):
            raise AccessError(
                _("This distributor is not in your organisation.")
            ) from None
        if distributor_id == self.id:
            if include_self:
                return self.sudo()
            raise AccessError(_("This distributor is not in your organisation."))
        target = self.sudo().browse(distributor_id).exists()
        if (
            not target
            or target.company_id != self.company_id
            or not (target.parent_path or "").startswith(self.sudo().parent_path or "-")
        ):
            raise AccessError(_("This distributor is not in your organisation."))
        return target

    @api.model
    def _ds_depth_sql(self, alias):
        """Depth of rows of ``alias`` as SQL: the stored ``depth`` column of the core
        when there is one, else the number of slashes of ``parent_path``."""
        field = self._fields.get("depth")
        if field is not None and field.store:
            return SQL("%s.depth", SQL.identifier(alias))
        return SQL(
            "(length(%(a)s.parent_path) - length(replace(%(a)s.parent_path, '/', '')))",
            a=SQL.identifier(alias),
        )

    def _ds_own_depth(self):
        self.ensure_one()
        field = self._fields.get("depth")
        if field is not None and field.store:
            return self.sudo().depth
        return (self.sudo().parent_path or "").count("/")

    def _ds_portal_periods(self):
        """(current period, previous period) of this distributor's company, sudo."""
        self.ensure_one()
        Period = self.env["ds.period"].sudo()
        company = self.sudo().company_id
        today = fields.Date.context_today(self)
        current = Period.search(
            [
                ("company_id", "=", company.id),
                ("date_from", "<=", today),
                ("date_to", ">=", today),
            ],
            limit=1,
        ) or Period.search(
            [("company_id", "=", company.id), ("state", "=", "open")],
            order="date_from desc",
            limit=1,
        )
        previous = Period
        if current:
            previous = Period.search(
                [("company_id", "=", company.id), ("date_to", "<", current.date_from)],
                order="date_to desc",
                limit=1,
            )
        return current, previous

    def _ds_active_min_pv(self):
        company = self.sudo().company_id
        return (
            company.ds_active_min_pv if "ds_active_min_pv" in company._fields else 0.0
        )

    _DS_PORTAL_ORDERS = {
        "name": "p.name, d.id",
        "code": "d.code, d.id",
        "newest": "d.enrollment_date DESC NULLS LAST, d.id DESC",
        "gv": "v.gv DESC NULLS LAST, d.id",
        "pv": "v.pv DESC NULLS LAST, d.id",
        "depth": "depth_rel, p.name, d.id",
    }

    @api.model
    def _ds_audience_filters(self, filters):
        """Translate a ds.portal.message audience into downline filters."""
        audience = filters.get("audience")
        if audience == "new_recruits":
            filters["new"] = "1"
        elif audience == "inactive":
            filters["active"] = "0"
        elif audience == "at_risk":
            filters["at_risk"] = "1"
        if audience and audience != "rank":
            filters.pop("rank_id", None)
        return filters

    def _ds_downline_conditions(self, filters, depth_rel, previous):
        """(WHERE conditions, extra JOINs) of the downline query for ``filters``."""
        leader = self
        wheres = [
            self._ds_prefix_condition(leader.parent_path, "d"),
            SQL("d.id != %s", leader.id),
            SQL("d.company_id = %s", leader.company_id.id),
            SQL("d.state != 'terminated'"),
        ]
        depth = filters.get("depth")
        if depth and str(depth).isdigit() and int(depth) > 0:
            wheres.append(SQL("%s = %s", depth_rel, int(depth)))
        rank_id = filters.get("rank_id")
        if rank_id and str(rank_id).isdigit():
            wheres.append(SQL("d.rank_id = %s", int(rank_id)))
        active = filters.get("active")
        if active == "1":
            wheres.append(SQL("COALESCE(v.is_active, FALSE)"))
        elif active == "0":
            wheres.append(SQL("NOT COALESCE(v.is_active, FALSE)"))
        if filters.get("new") == "1":
            since = fields.Date.subtract(fields.Date.context_today(self), days=30)
            wheres.append(SQL("d.enrollment_date >= %s", since))
        joins = []
        if filters.get("at_risk") == "1":
            joins.append(
                SQL(
                    "JOIN ds_volume vp ON vp.distributor_id = d.id AND vp.period_id = %s"
                    " AND vp.is_active",
                    previous.id or 0,
                )
            )
            wheres.append(SQL("COALESCE(v.pv, 0) < %s", leader._ds_active_min_pv()))
        return wheres, joins

    def _ds_downline_query(
        self,
        filters=None,
        search=None,
        select=None,
        order=None,
        limit=None,
        offset=None,
    ):
        """SQL over this leader's downline (leader excluded), joined to the current
        period's volume. Set-based: the subtree is never loaded in Python.

        filters: depth (relative level, 1 = frontline), rank_id, active ('1'/'0'),
        new ('1' = enrolled in the last 30 days), at_risk ('1': active last period
        and below the active PV this period), audience (a ds.portal.message audience).
        """
        self.ensure_one()
        leader = self.sudo()
        filters = dict(filters or {})
        if order and order not in self._DS_PORTAL_ORDERS:
            order = "name"
        current, previous = leader._ds_portal_periods()
        leader_depth = leader._ds_own_depth()
        depth_rel = SQL("(%s - %s)", self._ds_depth_sql("d"), leader_depth)
        filters = self._ds_audience_filters(filters)
        wheres, joins = leader._ds_downline_conditions(filters, depth_rel, previous)
        if search:
            term = (
                "%"
                + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                + "%"
            )
            # two index-friendly branches (trigram indexes on distributor names
            # and codes when pg_trgm is there) instead of an OR across two tables
            wheres.append(
                SQL(
                    """d.id IN (
                        SELECT ds.id FROM ds_distributor ds
                          JOIN res_partner ps ON ps.id = ds.partner_id
                         WHERE ps.ds_distributor_id IS NOT NULL AND ps.name ILIKE %s
                        UNION ALL
                        SELECT ds.id FROM ds_distributor ds WHERE ds.code ILIKE %s)""",
                    term,
                    term,
                )
            )

        default_select = None
        if select is None:
            select = default_select = SQL(
                "d.id, %s AS depth_rel, v.pv, v.gv, COALESCE(v.is_active, FALSE)",
                depth_rel,
            )
        if order in ("name", "depth"):
            # the partner is only joined when its name is needed (sort)
            joins.insert(0, SQL("JOIN res_partner p ON p.id = d.partner_id"))
        if (
            select is default_select
            or order in ("gv", "pv")
            or any(filters.get(key) in ("0", "1") for key in ("active", "at_risk"))
        ):
            # the current volume only when shown, sorted or filtered on (not for
            # a plain count)
            joins.insert(
                0,
                SQL(
                    "LEFT JOIN ds_volume v ON v.distributor_id = d.id"
                    " AND v.period_id = %s",
                    current.id or 0,
                ),
            )
        query = SQL(
            """
            SELECT %(select)s
              FROM ds_distributor d
                   %(joins)s
             WHERE %(where)s
            """,
            select=select,
            joins=SQL(" ").join(joins),
            where=SQL(" AND ").join(wheres),
        )
        if order:
            order_sql = self._DS_PORTAL_ORDERS[order]
            # order_sql only comes from the fixed mapping above
            query = SQL("%s ORDER BY %s", query, SQL(order_sql))
        if limit:
            query = SQL("%s LIMIT %s", query, int(limit))
        if offset:
            query = SQL("%s OFFSET %s", query, int(offset))
        return query

    def _ds_children_rows(self, node, limit=200, offset=0):
        """One level of the genealogy under ``node`` (already checked to be in this
        leader's subtree): [(id, child_count, pv, gv, is_active)]."""
        self.ensure_one()
        current, _previous = self.sudo()._ds_portal_periods()
        return self.env.execute_query(
            SQL(
                """
                SELECT d.id,
                       (SELECT count(*) FROM ds_distributor c
                         WHERE c.sponsor_id = d.id AND c.state != 'terminated') AS child_count,
                       v.pv, v.gv, COALESCE(v.is_active, FALSE)
                  FROM ds_distributor d
                  JOIN res_partner p ON p.id = d.partner_id
             LEFT JOIN ds_volume v ON v.distributor_id = d.id AND v.period_id = %s
                 WHERE d.sponsor_id = %s AND d.state != 'terminated'
              ORDER BY p.name, d.id
                 LIMIT %s OFFSET %s
                """,
                current.id or 0,
                node.id,
                int(limit),
                int(offset),
            )
        )

    # ------------------------------------------------------------------
    # Leader dashboard (set-based: four small aggregates over the subtree)
    # ------------------------------------------------------------------
    def _ds_dashboard_data(self, months=12):
        """Figures of this leader's dashboard, for the charts (JSON-ready).

        - volumes: own PV / GV of the last ``months`` periods with a volume;
        - growth: downline size at the end of each of the last ``months`` months
          and the recruits enrolled in each (current members, terminated excluded);
        - ranks: the downline's paid-as ranks (``rank_id``, set by the close of
          the last closed period; "No rank" for members without one);
        - bonuses: this leader's paid amount per posted bonus run (the last
          ``months``).
        Only this leader's own subtree is read (parent_path prefix)."""
        self.ensure_one()
        leader = self.sudo()
        env = self.env
        for model in ("ds.distributor", "ds.volume", "ds.period", "ds.bonus.line"):
            env[model].flush_model()
        today = fields.Date.context_today(self)
        month_start = today.replace(day=1)
        first_month = fields.Date.subtract(month_start, months=months - 1)
        subtree = SQL(" AND ").join(
            [
                self._ds_prefix_condition(leader.parent_path, "d"),
                SQL("d.id != %s", leader.id),
                SQL("d.company_id = %s", leader.company_id.id),
                SQL("d.state != 'terminated'"),
            ]
        )

        # own PV / GV by period
        rows = env.execute_query(
            SQL(
                """
                SELECT p.id, v.pv, v.gv
                  FROM ds_volume v
                  JOIN ds_period p ON p.id = v.period_id
                 WHERE v.distributor_id = %s
              ORDER BY p.date_from DESC, p.id DESC
                 LIMIT %s
                """,
                leader.id,
                int(months),
            )
        )[::-1]
        periods = env["ds.period"].sudo().browse([row[0] for row in rows])
        volumes = {
            "labels": [period.display_name for period in periods],
            "pv": [row[1] or 0.0 for row in rows],
            "gv": [row[2] or 0.0 for row in rows],
        }

        # the paid-as ranks are those of the last closed period: the one that
        # set ds.distributor.rank_id
        period = (
            env["ds.period"]
            .sudo()
            .search(
                [("company_id", "=", leader.company_id.id), ("state", "=", "closed")],
                order="date_to desc, id desc",
                limit=1,
            )
        )
        # one scan of the subtree for two aggregates (grouping sets): recruits by
        # enrollment month (NULL: before the window) and members by paid-as rank
        # (NULL: none); no join: a 100,000-member subtree is read once
        rows = env.execute_query(
            SQL(
                """
                SELECT GROUPING(s.month), s.month, s.rank_id, count(*)
                  FROM (
                        SELECT CASE WHEN d.enrollment_date >= %(start)s
                                    THEN date_trunc('month', d.enrollment_date)::date
                               END AS month,
                               d.rank_id
                          FROM ds_distributor d
                         WHERE %(subtree)s
                       ) s
              GROUP BY GROUPING SETS ((s.month), (s.rank_id))
                """,
                start=first_month,
                subtree=subtree,
            )
        )
        by_month = {month: count for grouping, month, _r, count in rows if not grouping}
        by_rank = {rank_id: count for grouping, _m, rank_id, count in rows if grouping}

        # recruits by month and the downline size at each month's end (members
        # enrolled after this month are not counted)
        size = by_month.get(None, 0)
        growth = {"labels": [], "size": [], "recruits": []}
        for index in range(months):
            month = fields.Date.add(first_month, months=index)
            recruits = by_month.get(month, 0)
            size += recruits
            growth["labels"].append(format_date(env, month, date_format="MMM yyyy"))
            growth["recruits"].append(recruits)
            growth["size"].append(size)

        # rank distribution of the team
        ranks = {"period": period.display_name or "", "labels": [], "counts": []}
        if by_rank:
            Rank = env["ds.rank"].sudo()
            ordered = sorted(
                ((Rank.browse(rank_id), count) for rank_id, count in by_rank.items()),
                key=lambda item: (
                    bool(item[0]),
                    item[0].sequence if item[0] else 0,
                    item[0].id,
                ),
            )
            ranks = {
                "period": period.display_name or "",
                "labels": [rank.name if rank else _("No rank") for rank, _c in ordered],
                "counts": [count for _r, count in ordered],
            }

        # bonus history: the leader's paid amount per posted run
        Line = env["ds.bonus.line"].sudo()
        domain = [("distributor_id", "=", leader.id), ("run_id.state", "=", "posted")]
        if "carried_forward" in Line._fields:
            domain.append(("carried_forward", "=", False))
        runs = sorted(
            Line._read_group(domain, ["run_id"], ["amount:sum"]),
            key=lambda item: (item[0].period_id.date_from or today, item[0].id),
        )[-months:]
        currency = leader.company_id.currency_id
        bonuses = {
            "labels": [
                run.period_id.display_name or run.display_name for run, _a in runs
            ],
            "amounts": [currency.round(amount) for _r, amount in runs],
            "currency": {
                "symbol": currency.symbol,
                "position": currency.position,
                "digits": currency.decimal_places,
            },
        }
        return {
            "volumes": volumes,
            "growth": growth,
            "ranks": ranks,
            "bonuses": bonuses,
            "summary": {
                "downline": growth["size"][-1] if growth["size"] else 0,
                "recruits": sum(growth["recruits"]),
                "pv": volumes["pv"][-1] if volumes["pv"] else 0.0,
                "gv": volumes["gv"][-1] if volumes["gv"] else 0.0,
                "bonus_total": currency.round(sum(bonuses["amounts"])),
            },
        }

    def _ds_statement_token(self, run):
        """Access token of this distributor's statement of ``run``: lets a shared
        link open the PDF without a session; bound to the pair (run, distributor)."""
        self.ensure_one()
        return hmac_tool(
            self.env(su=True), "ds-portal-bonus-statement", (int(run.id), int(self.id))
        )
