import json
from datetime import timedelta

from markupsafe import Markup, escape
from werkzeug.exceptions import Forbidden, NotFound

from odoo import _, fields, http
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request, route
from odoo.tools import SQL, consteq, email_normalize

from odoo.addons.crm_direct_selling.models.ds_volume import CUSTOMER_MOVE_TYPES
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.res_users import REFERRAL_COOKIE, REFERRAL_SESSION_KEY

NETWORK_PAGE_SIZE = 50
NETWORK_COUNT_CAP = 10000
TREE_LEVEL_SIZE = 200
NEWS_LIST_XMLID = "crm_direct_selling_portal.mailing_list_product_news"


class DirectSellingPortal(CustomerPortal):
    # ------------------------------------------------------------------
    # Access helpers
    # ------------------------------------------------------------------
    def _ds_leader(self):
        """Sudo ds.distributor of the logged-in user; 403 for anyone else.

        Every sudo read in this controller starts from this record and is filtered
        by its subtree (parent_path prefix) or by its own id."""
        leader = request.env["ds.distributor"]._ds_portal_current()
        if not leader:
            raise Forbidden()
        return leader

    def _ds_member(self, leader, distributor_id, include_self=False):
        try:
            return leader._ds_check_in_downline(
                distributor_id, include_self=include_self
            )
        except AccessError:
            raise NotFound() from None

    def _ds_ranks(self, leader):
        return (
            request.env["ds.rank"]
            .sudo()
            .search(
                [
                    "|",
                    ("company_id", "=", False),
                    ("company_id", "=", leader.company_id.id),
                ]
            )
        )

    def _ds_news_list(self):
        return request.env.ref(NEWS_LIST_XMLID, raise_if_not_found=False)

    def _ds_news_subscribed(self, partner):
        mailing_list = self._ds_news_list()
        email = email_normalize(partner.email or "")
        if not mailing_list or not email:
            return False
        return bool(
            request.env["mailing.subscription"]
            .sudo()
            .search_count(
                [
                    ("list_id", "=", mailing_list.id),
                    ("contact_id.email_normalized", "=", email),
                    ("opt_out", "=", False),
                ],
                limit=1,
            )
        )

    # ------------------------------------------------------------------
    # Home
    # ------------------------------------------------------------------
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        env = request.env
        leader = env["ds.distributor"]._ds_portal_current()
        if not counters:
            values["ds_leader"] = leader
            values["ds_consumer"] = not leader and not env.user._is_public()
        if leader:
            if "ds_network_count" in counters:
                values["ds_network_count"] = env.execute_query(
                    leader._ds_downline_query(select=SQL("count(*)"))
                )[0][0]
            if "ds_customer_count" in counters:
                values["ds_customer_count"] = (
                    env["res.partner"]
                    .sudo()
                    .search_count([("ds_referrer_id", "=", leader.id)])
                )
            if "ds_lead_count" in counters:
                # open leads: not won (lost ones are archived)
                values["ds_lead_count"] = (
                    env["crm.lead"]
                    .sudo()
                    .search_count(
                        [
                            ("ds_distributor_id", "=", leader.id),
                            "|",
                            ("stage_id", "=", False),
                            ("stage_id.is_won", "=", False),
                        ]
                    )
                )
            if "ds_message_count" in counters:
                values["ds_message_count"] = (
                    env["ds.portal.message"]
                    .sudo()
                    .search_count([("leader_id", "=", leader.id)])
                )
            if "ds_bonus_count" in counters:
                values["ds_bonus_count"] = len(
                    env["ds.bonus.line"]
                    .sudo()
                    ._read_group(
                        [
                            ("distributor_id", "=", leader.id),
                            ("run_id.state", "=", "posted"),
                        ],
                        ["run_id"],
                    )
                )
        elif "ds_reward_count" in counters:
            values["ds_reward_count"] = (
                env["loyalty.card"]
                .sudo()
                .search_count(
                    [
                        ("partner_id", "=", env.user.partner_id.id),
                        ("program_id.active", "=", True),
                    ]
                )
            )
        return values

    # ------------------------------------------------------------------
    # Leader dashboard
    # ------------------------------------------------------------------
    @route("/my/dashboard", type="http", auth="user", website=True, readonly=True)
    def ds_portal_dashboard(self, **kw):
        """Charts of the logged-in leader's own figures, drawn by the
        DsLeaderDashboard widget from the data embedded in the page (the same
        as /my/dashboard/data)."""
        leader = self._ds_leader()
        data = leader._ds_dashboard_data()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_dashboard",
                "leader": leader,
                "data": data,
                "data_json": json.dumps(data),
                "currency": leader.company_id.currency_id,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_dashboard", values)

    @route(
        "/my/dashboard/data",
        type="http",
        auth="user",
        methods=["GET"],
        readonly=True,
    )
    def ds_portal_dashboard_data(self, **kw):
        """JSON of the dashboard charts of the logged-in leader; no parameter
        selects another distributor (403 for a user who is not a distributor)."""
        leader = self._ds_leader()
        return request.make_json_response(leader._ds_dashboard_data())

    # ------------------------------------------------------------------
    # Network list
    # ------------------------------------------------------------------
    def _ds_network_sortings(self):
        return {
            "name": {"label": _("Name")},
            "code": {"label": _("Code")},
            "newest": {"label": _("Newest")},
            "gv": {"label": _("Group volume")},
            "pv": {"label": _("Personal volume")},
            "depth": {"label": _("Level")},
        }

    @route(
        ["/my/network", "/my/network/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_network(self, page=1, sortby="name", search=None, **kw):
        leader = self._ds_leader()
        env = request.env
        sortings = self._ds_network_sortings()
        if sortby not in sortings:
            sortby = "name"
        filters = {
            key: kw.get(key)
            for key in ("depth", "rank_id", "active", "new", "at_risk")
            if kw.get(key)
        }
        search = (search or "").strip()[:100]
        # counting a 100,000-member subtree costs a scan of it: count up to a cap
        # (200 pages); beyond it the page says "10000+" and search/filters narrow
        total = env.execute_query(
            SQL(
                "SELECT count(*) FROM (%s LIMIT %s) sub",
                leader._ds_downline_query(
                    filters=filters, search=search, select=SQL("1")
                ),
                NETWORK_COUNT_CAP + 1,
            )
        )[0][0]
        total_capped = total > NETWORK_COUNT_CAP
        total = min(total, NETWORK_COUNT_CAP)
        url_args = dict(filters, sortby=sortby)
        if search:
            url_args["search"] = search
        pager = portal_pager(
            url="/my/network",
            url_args=url_args,
            total=total,
            page=page,
            step=NETWORK_PAGE_SIZE,
        )
        rows = env.execute_query(
            leader._ds_downline_query(
                filters=filters,
                search=search,
                order=sortby,
                limit=NETWORK_PAGE_SIZE,
                offset=pager["offset"],
            )
        )
        members = env["ds.distributor"].sudo().browse([row[0] for row in rows])
        lines = [
            {
                "distributor": member,
                "depth": row[1],
                "pv": row[2] or 0.0,
                "gv": row[3] or 0.0,
                "is_active": row[4],
            }
            for member, row in zip(members, rows, strict=False)
        ]
        current, _previous = leader._ds_portal_periods()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_network",
                "leader": leader,
                "lines": lines,
                "total": total,
                "total_capped": total_capped,
                "pager": pager,
                "period": current,
                "ranks": self._ds_ranks(leader),
                "filters": filters,
                "search": search,
                "sortby": sortby,
                "searchbar_sortings": sortings,
                "referral_url": self._ds_referral_url(leader),
                "default_url": "/my/network",
                # courses of the members of this page only (their ids come from the
                # leader's subtree query above): one query
                "training": members._ds_training_stats(),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_network", values)

    def _ds_referral_url(self, leader):
        return f"{leader.get_base_url()}/ds/ref/{leader.code}"

    # ------------------------------------------------------------------
    # Genealogy tree (lazy)
    # ------------------------------------------------------------------
    @route("/my/network/tree", type="http", auth="user", website=True, readonly=True)
    def ds_portal_tree(self, **kw):
        leader = self._ds_leader()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_tree",
                "leader": leader,
                "root_child_count": request.env["ds.distributor"]
                .sudo()
                .search_count(
                    [("sponsor_id", "=", leader.id), ("state", "!=", "terminated")]
                ),
            }
        )
        return request.render(
            "crm_direct_selling_portal.portal_my_network_tree", values
        )

    @route(
        "/my/network/tree/children",
        type="http",
        auth="user",
        methods=["GET"],
        readonly=True,
    )
    def ds_portal_tree_children(self, node_id=None, offset=0, **kw):
        """One level of children of ``node_id`` (the leader or a member of their
        subtree) as JSON; 404 for any other node."""
        leader = self._ds_leader()
        node = self._ds_member(leader, node_id, include_self=True)
        try:
            offset = max(0, int(offset))
        except ValueError:
            offset = 0
        rows = leader._ds_children_rows(node, limit=TREE_LEVEL_SIZE + 1, offset=offset)
        has_more = len(rows) > TREE_LEVEL_SIZE
        rows = rows[:TREE_LEVEL_SIZE]
        children = request.env["ds.distributor"].sudo().browse([row[0] for row in rows])
        data = {
            "node_id": node.id,
            "offset": offset,
            "has_more": has_more,
            "children": [
                {
                    "id": child.id,
                    "name": child.name,
                    "code": child.code or "",
                    "rank": child.rank_id.name or "",
                    "child_count": row[1],
                    "pv": row[2] or 0.0,
                    "gv": row[3] or 0.0,
                    "is_active": row[4],
                    "url": f"/my/network/{child.id}",
                }
                for child, row in zip(children, rows, strict=False)
            ],
        }
        return request.make_json_response(data)

    # ------------------------------------------------------------------
    # Member page
    # ------------------------------------------------------------------
    @route(
        "/my/network/<int:distributor_id>",
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_member(self, distributor_id, **kw):
        leader = self._ds_leader()
        member = self._ds_member(leader, distributor_id)
        # the last 12 periods (ds.volume is ordered newest period first), oldest first
        volumes = (
            request.env["ds.volume"]
            .sudo()
            .search([("distributor_id", "=", member.id)], limit=12)
        )[::-1]
        frontline_count = (
            request.env["ds.distributor"]
            .sudo()
            .search_count(
                [("sponsor_id", "=", member.id), ("state", "!=", "terminated")]
            )
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_member",
                "leader": leader,
                "member": member,
                "volumes": volumes,
                "max_gv": max(volumes.mapped("gv") or [0.0]) or 1.0,
                "frontline_count": frontline_count,
                "level": member._ds_own_depth() - leader._ds_own_depth(),
                "training": self._ds_member_training(member),
                "share_contact": member.ds_portal_share_contact,
                # the sponsor is shown only when it is inside the leader's subtree
                "sponsor_visible": member.sponsor_id
                and (member.sponsor_id.parent_path or "").startswith(
                    leader.parent_path
                ),
            }
        )
        return request.render(
            "crm_direct_selling_portal.portal_my_network_member", values
        )

    def _ds_member_training(self, member):
        """Courses of ``member`` (sudo: the caller checked the member is in the
        leader's subtree): figures and one line per course joined."""
        followed, completed, onboarding = member._ds_training_stats().get(
            member.id, (0, 0, None)
        )
        memberships = (
            request.env["slide.channel.partner"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", member.partner_id.id),
                    ("member_status", "!=", "invited"),
                ],
                order="id",
            )
        )
        return {
            "followed": followed,
            "completed": completed,
            "onboarding": onboarding,
            "courses": [
                {
                    "name": m.channel_id.name,
                    "status": m.member_status,
                    "completion": m.completion,
                }
                for m in memberships
            ],
        }

    # ------------------------------------------------------------------
    # Team orders: sale orders credited to members of the leader's downline
    # ------------------------------------------------------------------
    @route(
        ["/my/network/orders", "/my/network/orders/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_team_orders(self, page=1, member=None, **kw):
        leader = self._ds_leader()
        member_rec = self._ds_member(leader, member) if member else None
        env = request.env
        env["sale.order"].flush_model(["ds_distributor_id", "state", "date_order"])
        if member_rec:
            where = SQL("so.ds_distributor_id = %s", member_rec.id)
        else:
            where = SQL(
                "d.id <> %s AND %s",
                leader.id,
                leader._ds_prefix_condition(leader.parent_path, "d"),
            )
        base = SQL(
            """FROM sale_order so
               JOIN ds_distributor d ON d.id = so.ds_distributor_id
              WHERE so.state = 'sale' AND d.company_id = %s AND %s""",
            leader.company_id.id,
            where,
        )
        total = env.execute_query(
            SQL(
                "SELECT count(*) FROM (SELECT 1 %s LIMIT %s) sub",
                base,
                NETWORK_COUNT_CAP + 1,
            )
        )[0][0]
        total_capped = total > NETWORK_COUNT_CAP
        total = min(total, NETWORK_COUNT_CAP)
        url_args = {"member": member_rec.id} if member_rec else {}
        pager = portal_pager(
            url="/my/network/orders",
            url_args=url_args,
            total=total,
            page=page,
            step=NETWORK_PAGE_SIZE,
        )
        rows = env.execute_query(
            SQL(
                "SELECT so.id %s ORDER BY so.date_order DESC, so.id DESC LIMIT %s OFFSET %s",
                base,
                NETWORK_PAGE_SIZE,
                pager["offset"],
            )
        )
        orders = env["sale.order"].sudo().browse([row[0] for row in rows])
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_team_orders",
                "leader": leader,
                "member": member_rec,
                "orders": orders,
                "total": total,
                "total_capped": total_capped,
                "pager": pager,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_team_orders", values)

    # ------------------------------------------------------------------
    # Volume and rank progress
    # ------------------------------------------------------------------
    def _ds_active_legs(self, leader, period, leg_rank=None):
        """Frontline members active in ``period`` (one SQL count)."""
        if not period:
            return 0
        return request.env.execute_query(
            SQL(
                """
                SELECT count(*) FROM ds_distributor d
                  JOIN ds_volume v ON v.distributor_id = d.id AND v.period_id = %s
                 WHERE d.sponsor_id = %s AND v.is_active AND d.state != 'terminated'
                """,
                period.id,
                leader.id,
            )
        )[0][0]

    @route("/my/volume", type="http", auth="user", website=True, readonly=True)
    def ds_portal_volume(self, **kw):
        leader = self._ds_leader()
        Volume = request.env["ds.volume"].sudo()
        current, _previous = leader._ds_portal_periods()
        history = Volume.search([("distributor_id", "=", leader.id)], limit=24)
        # the figures of the current period once computed; until then the last computed
        # period's, named as such (no figure is made up for a period not computed yet)
        volume = (
            history.filtered(lambda v: v.period_id == current)[:1]
            or history.filtered(
                lambda v: not current or v.period_id.date_from <= current.date_from
            )[:1]
        )
        progress = volume._ds_rank_progress() if volume else None
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_volume",
                "leader": leader,
                "period": current,
                "volume": volume,
                "progress": progress,
                "stale": bool(volume) and volume.period_id != current,
                "labels": Volume._ds_progress_labels(),
                "active_legs": self._ds_active_legs(leader, volume.period_id)
                if volume
                else 0,
                "paid_rank": volume.paid_rank_id,
                "history": history,
                "history_without_next_gv": history._ds_without_next_gv(),
                "active_min_pv": leader._ds_active_min_pv(),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_volume", values)

    # ------------------------------------------------------------------
    # Bonuses and statements
    # ------------------------------------------------------------------
    @route("/my/bonuses", type="http", auth="user", website=True, readonly=True)
    def ds_portal_bonuses(self, **kw):
        leader = self._ds_leader()
        Line = request.env["ds.bonus.line"].sudo()
        domain = [("distributor_id", "=", leader.id), ("run_id.state", "=", "posted")]
        paid_domain = domain
        if "carried_forward" in Line._fields:
            paid_domain = domain + [("carried_forward", "=", False)]
        by_type = Line._read_group(
            paid_domain, ["run_id", "bonus_type"], ["amount:sum"]
        )
        carried = (
            dict(
                Line._read_group(
                    [d for d in domain] + [("carried_forward", "=", True)],
                    ["run_id"],
                    ["amount:sum"],
                )
            )
            if "carried_forward" in Line._fields
            else {}
        )
        by_move = Line._read_group(domain, ["run_id", "move_id"], ["amount:sum"])
        type_labels = dict(
            Line._fields["bonus_type"]._description_selection(request.env)
        )
        runs = {}
        for run, bonus_type, amount in by_type:
            entry = runs.setdefault(
                run.id,
                {
                    "run": run,
                    "types": [],
                    "total": 0.0,
                    "moves": request.env["account.move"],
                },
            )
            entry["types"].append((type_labels.get(bonus_type, bonus_type), amount))
            entry["total"] += amount
        for run, move, _amount in by_move:
            if move and run.id in runs:
                runs[run.id]["moves"] |= move
        entries = sorted(
            runs.values(),
            key=lambda e: (
                e["run"].period_id.date_from or fields.Date.today(),
                e["run"].id,
            ),
            reverse=True,
        )
        for entry in entries:
            entry["statement_url"] = (
                "/my/bonuses/{}/statement?access_token={}&distributor_id={}".format(
                    entry["run"].id,
                    leader._ds_statement_token(entry["run"]),
                    leader.id,
                )
            )
            entry["xlsx_url"] = "/my/bonuses/{}/lines.xlsx".format(entry["run"].id)
            entry["currency"] = entry["run"].company_id.currency_id
            entry["carried"] = carried.get(entry["run"], 0.0)
        values = self._prepare_portal_layout_values()
        values.update({"page_name": "ds_bonuses", "leader": leader, "entries": entries})
        return request.render("crm_direct_selling_portal.portal_my_bonuses", values)

    @route(
        "/my/bonuses/<int:run_id>/statement", type="http", auth="public", website=True
    )
    def ds_portal_statement(
        self, run_id, access_token=None, distributor_id=None, download=None, **kw
    ):
        """PDF statement of one distributor for one posted run: the logged-in
        distributor's own, or anyone's with the matching access token."""
        Distributor = request.env["ds.distributor"].sudo()
        distributor = Distributor
        if access_token and distributor_id and str(distributor_id).isdigit():
            candidate = Distributor.browse(int(distributor_id)).exists()
            run = request.env["ds.bonus.run"].sudo().browse(run_id).exists()
            if (
                candidate
                and run
                and consteq(candidate._ds_statement_token(run), str(access_token))
            ):
                distributor = candidate
        if not distributor and not request.env.user._is_public():
            distributor = Distributor._ds_portal_current()
        if not distributor:
            raise NotFound()
        run = (
            request.env["ds.bonus.run"]
            .sudo()
            .search([("id", "=", run_id), ("state", "=", "posted")], limit=1)
        )
        if not run or not request.env["ds.bonus.line"].sudo().search_count(
            [("run_id", "=", run.id), ("distributor_id", "=", distributor.id)], limit=1
        ):
            raise NotFound()
        # the core's statement report, restricted to this one earner
        report = request.env.ref(
            "crm_direct_selling.action_report_ds_bonus_statement"
        ).sudo()
        pdf, _ftype = report._render_qweb_pdf(
            report.report_name, [run.id], data={"distributor_ids": [distributor.id]}
        )
        filename = f"statement-{run.id}-{distributor.code or distributor.id}.pdf"
        headers = [
            ("Content-Type", "application/pdf" if _ftype == "pdf" else "text/html"),
            ("Content-Length", len(pdf)),
            (
                "Content-Disposition",
                http.content_disposition(filename)
                if download
                else http.content_disposition(filename).replace(
                    "attachment", "inline", 1
                ),
            ),
        ]
        return request.make_response(pdf, headers=headers)

    @route(
        "/my/bonuses/<int:run_id>/lines.xlsx", type="http", auth="user", readonly=True
    )
    def ds_portal_statement_xlsx(self, run_id, **kw):
        """Every line of the logged-in distributor's own statement of one posted run, as
        XLSX (the PDF statement is a summary). Only the caller's own lines: there is no
        distributor parameter, and a run that did not pay the caller is not found."""
        distributor = request.env["ds.distributor"].sudo()._ds_portal_current()
        if not distributor:
            raise NotFound()
        run = (
            request.env["ds.bonus.run"]
            .sudo()
            .search([("id", "=", run_id), ("state", "=", "posted")], limit=1)
        )
        if not run or not request.env["ds.bonus.line"].sudo().search_count(
            [("run_id", "=", run.id), ("distributor_id", "=", distributor.id)], limit=1
        ):
            raise NotFound()
        # sudo: the lines are read for this one earner, the caller, checked above
        data = run._statement_xlsx_bytes(distributor)
        filename = f"statement-lines-{run.id}-{distributor.code or distributor.id}.xlsx"
        return request.make_response(
            data,
            headers=[
                (
                    "Content-Type",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                ("Content-Length", len(data)),
                ("Content-Disposition", http.content_disposition(filename)),
            ],
        )

    # ------------------------------------------------------------------
    # Messages
    # ------------------------------------------------------------------
    def _ds_audiences(self):
        return dict(
            request.env["ds.portal.message"]
            ._fields["audience"]
            ._description_selection(request.env)
        )

    @route("/my/messages", type="http", auth="user", website=True)
    def ds_portal_messages(self, **kw):
        return self._ds_render_messages(error=kw.get("error"), sent=kw.get("sent"))

    def _ds_render_messages(self, error=None, sent=None, error_text=None):
        leader = self._ds_leader()
        messages = (
            request.env["ds.portal.message"]
            .sudo()
            .search([("leader_id", "=", leader.id)], limit=50)
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_messages",
                "leader": leader,
                "messages": messages,
                "audiences": self._ds_audiences(),
                "ranks": self._ds_ranks(leader),
                "error": error,
                "error_text": error_text,
                "sent": sent,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_messages", values)

    @route(
        "/my/messages/send", type="http", auth="user", website=True, methods=["POST"]
    )
    def ds_portal_messages_send(
        self, subject=None, body=None, audience=None, rank_id=None, **kw
    ):
        leader = self._ds_leader()
        if audience not in self._ds_audiences():
            raise NotFound()
        subject = (subject or "").strip()
        body = (body or "").strip()
        if not subject or not body:
            return request.redirect("/my/messages?error=empty")
        rank = request.env["ds.rank"].sudo()
        if audience == "rank":
            rank = (
                rank.browse(int(rank_id)).exists()
                if str(rank_id or "").isdigit()
                else rank
            )
            if not rank:
                return request.redirect("/my/messages?error=rank")
        # plain text from the portal form: escape it, keep line breaks
        html_body = Markup("<p>%s</p>") % Markup("<br/>").join(
            escape(line) for line in body.splitlines()
        )
        try:
            with request.env.cr.savepoint():
                message = (
                    request.env["ds.portal.message"]
                    .sudo()
                    .create(
                        {
                            "name": subject[:200],
                            "body": html_body,
                            "leader_id": leader.id,
                            "audience": audience,
                            "rank_id": rank.id,
                        }
                    )
                )
                message.action_send()
        except (UserError, ValidationError) as error:
            return self._ds_render_messages(error_text=str(error))
        return request.redirect(f"/my/messages?sent={message.id}")

    # ------------------------------------------------------------------
    # Customers
    # ------------------------------------------------------------------
    def _ds_customer_stats(self, leader, customers):
        """{partner id: {invoice_count, refund_count, amount, pv, open_orders}} of
        ``customers`` (referred by ``leader``) in one SQL statement.

        The documents are those the volume step counts for the leader's PV: posted
        customer invoices and refunds credited to the leader (``ds_distributor_id``),
        of the customer or of its commercial entity; ``amount`` is the invoiced
        total net of refunds in company currency (refunds are signed negative),
        ``pv`` the PV net of refunds. ``open_orders`` counts confirmed sale
        orders still to invoice, shown apart."""
        if not customers:
            return {}
        request.env["account.move"].flush_model(
            [
                "state",
                "move_type",
                "ds_distributor_id",
                "commercial_partner_id",
                "amount_total_signed",
                "ds_pv_total",
            ]
        )
        request.env["sale.order"].flush_model(["partner_id", "state", "invoice_status"])
        request.env["res.partner"].flush_model(["commercial_partner_id"])
        rows = request.env.execute_query(
            SQL(
                """
                WITH c AS (
                    SELECT p.id, COALESCE(p.commercial_partner_id, p.id) AS cp
                      FROM res_partner p
                     WHERE p.id = ANY(%(ids)s)
                ), inv AS (
                    SELECT am.commercial_partner_id AS cp,
                           count(*) FILTER (WHERE am.move_type = 'out_invoice') AS n_inv,
                           count(*) FILTER (WHERE am.move_type = 'out_refund') AS n_ref,
                           SUM(am.amount_total_signed) AS amount,
                           SUM(am.ds_pv_total) AS pv
                      FROM account_move am
                     WHERE am.commercial_partner_id IN (SELECT cp FROM c)
                       AND am.ds_distributor_id = %(leader)s
                       AND am.state = 'posted'
                       AND am.move_type IN %(types)s
                  GROUP BY am.commercial_partner_id
                ), so AS (
                    SELECT so.partner_id, count(*) AS n_open
                      FROM sale_order so
                     WHERE so.partner_id = ANY(%(ids)s)
                       AND so.state = 'sale' AND so.invoice_status = 'to invoice'
                  GROUP BY so.partner_id
                ), days AS (
                    -- the customer's purchase days credited to the leader and the gaps
                    SELECT d.cp, d.d, d.d - LAG(d.d) OVER (PARTITION BY d.cp ORDER BY d.d) AS gap
                      FROM (SELECT DISTINCT am.commercial_partner_id AS cp, am.invoice_date AS d
                              FROM account_move am
                             WHERE am.commercial_partner_id IN (SELECT cp FROM c)
                               AND am.ds_distributor_id = %(leader)s AND am.state = 'posted'
                               AND am.move_type = 'out_invoice') d
                ), rhythm AS (
                    SELECT cp, MAX(d) AS last_d,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)
                               FILTER (WHERE gap IS NOT NULL) AS usual
                      FROM days GROUP BY cp
                ), rec AS (
                    SELECT DISTINCT ON (r.partner_id) r.partner_id, r.product_id
                      FROM ds_partner_recommendation r
                     WHERE r.partner_id IN (SELECT cp FROM c) AND r.company_id = %(company)s
                  ORDER BY r.partner_id, r.rank
                )
                SELECT c.id, COALESCE(inv.n_inv, 0), COALESCE(inv.n_ref, 0),
                       COALESCE(inv.amount, 0), COALESCE(inv.pv, 0),
                       COALESCE(so.n_open, 0),
                       rh.usual IS NOT NULL AND %(today)s::date - rh.last_d >= rh.usual,
                       rh.usual, rec.product_id
                  FROM c
             LEFT JOIN inv ON inv.cp = c.cp
             LEFT JOIN so ON so.partner_id = c.id
             LEFT JOIN rhythm rh ON rh.cp = c.cp
             LEFT JOIN rec ON rec.partner_id = c.cp
                """,
                ids=list(customers.ids),
                leader=leader.id,
                types=CUSTOMER_MOVE_TYPES,
                company=leader.company_id.id,
                today=fields.Date.context_today(leader),
            )
        )
        products = {
            product.id: product
            for product in request.env["product.product"]
            .sudo()
            .browse({row[8] for row in rows if row[8]})
        }
        return {
            row[0]: {
                "invoice_count": row[1],
                "refund_count": row[2],
                "amount": row[3],
                "pv": row[4],
                "open_orders": row[5],
                # reorder due: as long since the last purchase as the customer's usual gap
                "due": bool(row[6]),
                "usual_days": round(row[7]) if row[7] is not None else None,
                # the product their purchases point to most (next best product)
                "next_product": products.get(row[8]),
            }
            for row in rows
        }

    @route(
        ["/my/customers", "/my/customers/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_customers(self, page=1, search=None, **kw):
        leader = self._ds_leader()
        Partner = request.env["res.partner"].sudo()
        domain = [("ds_referrer_id", "=", leader.id)]
        search = (search or "").strip()[:100]
        if search:
            domain += ["|", ("name", "ilike", search), ("email", "ilike", search)]
        total = Partner.search_count(domain)
        pager = portal_pager(
            url="/my/customers",
            url_args={"search": search} if search else {},
            total=total,
            page=page,
            step=self._items_per_page,
        )
        customers = Partner.search(
            domain, order="name, id", limit=self._items_per_page, offset=pager["offset"]
        )
        stats = self._ds_customer_stats(leader, customers)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_customers",
                "leader": leader,
                "customers": customers,
                "stats": stats,
                "currency": leader.company_id.currency_id,
                "pager": pager,
                "search": search,
                "referral_url": self._ds_referral_url(leader),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_customers", values)

    def _ds_customers_by_product(self, leader, limit=50):
        """Per product, the leader's own referred customers who are due to reorder it (as
        long since their last purchase of it, credited to the leader, as their usual gap
        between two purchases of it) and those whose next best products include it (top
        3), in one SQL statement. [{product, due: [...], likely: [...]}], products with
        the most due customers first; at most ``limit`` customers per list."""
        request.env["account.move"].flush_model()
        request.env["account.move.line"].flush_model()
        request.env["res.partner"].flush_model(
            ["ds_referrer_id", "commercial_partner_id"]
        )
        rows = request.env.execute_query(
            SQL(
                """
                WITH c AS (
                    SELECT p.id, COALESCE(p.commercial_partner_id, p.id) AS cp
                      FROM res_partner p
                     WHERE p.ds_referrer_id = %(leader)s AND p.active
                ), days AS (
                    SELECT DISTINCT am.commercial_partner_id AS cp, l.product_id, am.invoice_date AS d
                      FROM account_move am
                      JOIN account_move_line l ON l.move_id = am.id
                     WHERE am.commercial_partner_id IN (SELECT cp FROM c)
                       AND am.ds_distributor_id = %(leader)s AND am.state = 'posted'
                       AND am.move_type = 'out_invoice'
                       AND l.display_type = 'product' AND l.product_id IS NOT NULL
                ), gaps AS (
                    SELECT cp, product_id, d,
                           d - LAG(d) OVER (PARTITION BY cp, product_id ORDER BY d) AS gap
                      FROM days
                ), rhythm AS (
                    SELECT cp, product_id, MAX(d) AS last_d,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY gap)
                               FILTER (WHERE gap IS NOT NULL) AS usual
                      FROM gaps GROUP BY cp, product_id
                ), due AS (
                    SELECT 'due' AS kind, c.id AS partner_id, rh.product_id,
                           (%(today)s::date - rh.last_d)::float8 AS since, rh.usual::float8 AS usual
                      FROM rhythm rh JOIN c ON c.cp = rh.cp
                     WHERE rh.usual IS NOT NULL AND %(today)s::date - rh.last_d >= rh.usual
                ), likely AS (
                    SELECT 'likely', c.id, r.product_id, r.score, r.lift
                      FROM ds_partner_recommendation r JOIN c ON c.cp = r.partner_id
                     WHERE r.company_id = %(company)s AND r.rank <= 3
                ), alls AS (
                    SELECT * FROM due UNION ALL SELECT * FROM likely
                )
                SELECT kind, partner_id, product_id, since, usual FROM (
                    SELECT a.*, ROW_NUMBER() OVER (
                               PARTITION BY a.kind, a.product_id
                               ORDER BY CASE WHEN a.kind = 'due' THEN a.since - a.usual
                                             ELSE a.since END DESC, a.partner_id) AS nr
                      FROM alls a
                ) x WHERE x.nr <= %(limit)s
                ORDER BY product_id, kind, nr
                """,
                leader=leader.id,
                company=leader.company_id.id,
                today=fields.Date.context_today(leader),
                limit=limit,
            )
        )
        partners = request.env["res.partner"].sudo().browse({row[1] for row in rows})
        products = (
            request.env["product.product"].sudo().browse({row[2] for row in rows})
        )
        by_product = {}
        for kind, partner_id, product_id, first, second in rows:
            entry = by_product.setdefault(
                product_id,
                {"product": products.browse(product_id), "due": [], "likely": []},
            )
            partner = partners.browse(partner_id)
            if kind == "due":
                entry["due"].append(
                    {"partner": partner, "since": round(first), "usual": round(second)}
                )
            else:
                entry["likely"].append({"partner": partner, "score": first})
        return sorted(
            by_product.values(),
            key=lambda e: (
                -len(e["due"]),
                -len(e["likely"]),
                e["product"].display_name,
            ),
        )

    @route(
        "/my/customers/products", type="http", auth="user", website=True, readonly=True
    )
    def ds_portal_customers_by_product(self, **kw):
        leader = self._ds_leader()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_customers_products",
                "leader": leader,
                "groups": self._ds_customers_by_product(leader),
            }
        )
        return request.render(
            "crm_direct_selling_portal.portal_my_customers_by_product", values
        )

    @route(
        "/my/customers/<int:partner_id>",
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_customer(self, partner_id, **kw):
        leader = self._ds_leader()
        customer = (
            request.env["res.partner"]
            .sudo()
            .search(
                [("id", "=", partner_id), ("ds_referrer_id", "=", leader.id)], limit=1
            )
        )
        if not customer:
            raise NotFound()
        orders = (
            request.env["sale.order"]
            .sudo()
            .search(
                [("partner_id", "=", customer.id), ("state", "in", ("sale", "done"))],
                order="date_order desc",
                limit=50,
            )
        )
        # the documents that count for the leader's PV (as on the customers list)
        moves = (
            request.env["account.move"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", customer.commercial_partner_id.id),
                    ("ds_distributor_id", "=", leader.id),
                    ("state", "=", "posted"),
                    ("move_type", "in", CUSTOMER_MOVE_TYPES),
                ],
                order="invoice_date desc, id desc",
                limit=50,
            )
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_customer",
                "leader": leader,
                "customer": customer,
                "orders": orders,
                "moves": moves,
                "stats": self._ds_customer_stats(leader, customer).get(customer.id, {}),
                "currency": leader.company_id.currency_id,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_customer", values)

    # ------------------------------------------------------------------
    # Leads
    # ------------------------------------------------------------------
    def _ds_lead_stages(self, lead_or_leads):
        teams = lead_or_leads.team_id
        return (
            request.env["crm.stage"]
            .sudo()
            .search(["|", ("team_id", "=", False), ("team_id", "in", teams.ids)])
        )

    @route(
        ["/my/leads", "/my/leads/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def ds_portal_leads(self, page=1, **kw):
        leader = self._ds_leader()
        Lead = request.env["crm.lead"].sudo()
        domain = [("ds_distributor_id", "=", leader.id)]
        total = Lead.search_count(domain)
        pager = portal_pager(
            url="/my/leads", total=total, page=page, step=self._items_per_page
        )
        leads = Lead.search(
            domain,
            order="create_date desc, id desc",
            limit=self._items_per_page,
            offset=pager["offset"],
        )
        stages = self._ds_lead_stages(leads)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_leads",
                "leader": leader,
                "leads": leads,
                "lead_stages": {
                    lead.id: stages.filtered(
                        lambda s, t=lead.team_id: not s.team_id or s.team_id == t
                    )
                    for lead in leads
                },
                "pager": pager,
                "updated": kw.get("updated"),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_leads", values)

    @route(
        "/my/leads/<int:lead_id>/stage",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def ds_portal_lead_stage(self, lead_id, stage_id=None, **kw):
        leader = self._ds_leader()
        lead = (
            request.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("id", "=", lead_id),
                    ("ds_distributor_id", "=", leader.id),
                ],
                limit=1,
            )
        )
        if not lead:
            raise NotFound()
        stage = self._ds_lead_stages(lead).filtered(
            lambda s: str(s.id) == str(stage_id)
        )
        if not stage:
            raise NotFound()
        lead.write({"stage_id": stage.id})
        lead.message_post(
            body=_("Stage set to %s from the portal.", stage.name),
            author_id=leader.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return request.redirect(f"/my/leads?updated={lead.id}")

    @route(
        "/my/leads/<int:lead_id>/<any(accept,decline):decision>",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def ds_portal_lead_decision(self, lead_id, decision, **kw):
        """The distributor accepts a routed lead, or declines it (it escalates)."""
        leader = self._ds_leader()
        lead = (
            request.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("id", "=", lead_id),
                    ("ds_distributor_id", "=", leader.id),
                    ("ds_accepted", "=", False),
                ],
                limit=1,
            )
        )
        if not lead:
            raise NotFound()
        if decision == "accept":
            lead.action_ds_accept()
        else:
            lead.action_ds_decline()
        return request.redirect(f"/my/leads?updated={lead.id}")

    # ------------------------------------------------------------------
    # Referral link
    # ------------------------------------------------------------------
    @route(
        "/ds/ref/<string:code>", type="http", auth="public", website=True, sitemap=False
    )
    def ds_referral(self, code, **kw):
        """The distributor's shop: the link opens the shop attributed to the distributor
        (session and a 30-day cookie); the visitor's orders and sign-up make them the
        distributor's protected customer. The link of a distributor who is no longer
        active (suspended, terminated) opens the shop unattributed with a notice, and
        leaves any earlier attribution of the visitor as it was; an unknown code is a 404."""
        distributor = (
            request.env["ds.distributor"].sudo().search([("code", "=", code)], limit=1)
        )
        if not distributor:
            raise NotFound()
        if distributor.state != "active":
            return request.redirect("/shop?ds_ref=inactive")
        request.session[REFERRAL_SESSION_KEY] = distributor.id
        response = request.redirect("/shop")
        response.set_cookie(
            REFERRAL_COOKIE,
            distributor.code,
            max_age=int(timedelta(days=30).total_seconds()),
            httponly=True,
            samesite="Lax",
        )
        return response

    # ------------------------------------------------------------------
    # Consumers: rewards, product news
    # ------------------------------------------------------------------
    @route("/my/rewards", type="http", auth="user", website=True, readonly=True)
    def ds_portal_rewards(self, **kw):
        partner = request.env.user.partner_id
        cards = (
            request.env["loyalty.card"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", partner.id),
                    ("program_id.active", "=", True),
                    ("program_id.program_type", "in", ("loyalty", "ewallet")),
                ]
            )
        )
        rewards = {
            card.id: card.program_id.reward_ids.sorted("required_points")
            for card in cards
        }
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_rewards",
                "cards": cards,
                "rewards": rewards,
                "news_list": self._ds_news_list(),
                "news_subscribed": self._ds_news_subscribed(partner),
                "has_email": bool(email_normalize(partner.email or "")),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_rewards", values)

    @route("/my/news/toggle", type="http", auth="user", website=True, methods=["POST"])
    def ds_portal_news_toggle(self, **kw):
        partner = request.env.user.partner_id
        mailing_list = self._ds_news_list()
        email = email_normalize(partner.email or "")
        if not mailing_list or not email:
            raise NotFound()
        Contact = request.env["mailing.contact"].sudo()
        Subscription = request.env["mailing.subscription"].sudo()
        contact = Contact.search([("email_normalized", "=", email)], limit=1)
        if not contact:
            contact = Contact.create({"name": partner.name, "email": partner.email})
        subscription = Subscription.search(
            [("contact_id", "=", contact.id), ("list_id", "=", mailing_list.id)],
            limit=1,
        )
        if not subscription:
            Subscription.create({"contact_id": contact.id, "list_id": mailing_list.id})
        else:
            subscription.opt_out = not subscription.opt_out
        return request.redirect("/my/rewards")
