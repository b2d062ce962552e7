"""The placement tree of binary and matrix plans, beside the sponsor tree.

``placement_parent_id`` / ``placement_slot`` place a distributor under another one (slot 1 = left,
2 = right in a binary plan; 1..width in a matrix). ``placement_path`` / ``placement_depth`` are
kept set-based like ``parent_path`` / ``depth`` of the sponsor tree, guarded at commit by
placement_guard.py, and every placement is audited in ``ds.sponsor.change`` (tree = placement).

Only companies with a placement plan (``res.company.ds_placement_plan_id``) have a placement
tree. Elsewhere the placement fields stay empty and the placement of a distributor is their
sponsor. In a company with a placement plan:

* a distributor without sponsor is a root of the placement tree;
* a new recruit waits unplaced (``placement_path`` empty: the holding tank) for
  ``holding_days`` after enrollment; the sponsor places them from the portal into their own
  placement subtree, a manager anywhere (``action_place``); the daily job then places the rest
  by the plan's rule (``_cron_place_holding_tank``). With 0 holding days a recruit is placed
  by the rule at enrollment.
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from . import placement_guard
from .ds_access import ds_check_user
from .ds_distributor import PATH_INDEX_LEN
from .ds_volume import CUSTOMER_MOVE_TYPES

_logger = logging.getLogger(__name__)

PLACEMENT_FIELDS = frozenset(
    {"placement_parent_id", "placement_slot", "placement_path", "placement_depth"}
)


class DsDistributor(models.Model):
    _inherit = "ds.distributor"

    placement_parent_id = fields.Many2one(
        "ds.distributor",
        index=True,
        ondelete="restrict",
        readonly=True,
        copy=False,
        help="The parent in the placement tree (binary or matrix plan). Empty in companies "
        "without a placement plan: there the placement is the sponsor.",
    )
    placement_slot = fields.Integer(
        readonly=True,
        copy=False,
        aggregator=None,
        help="Slot under the placement parent: 1 = left, 2 = right in a binary plan; "
        "1..width in a matrix.",
    )
    placement_child_ids = fields.One2many("ds.distributor", "placement_parent_id")
    # maintained set-based (see _ds_place_sql); no btree index on it (fails past ~330 levels)
    placement_path = fields.Char(readonly=True, copy=False)
    placement_depth = fields.Integer(readonly=True, copy=False, aggregator=None)
    placement_enabled = fields.Boolean(
        compute="_compute_placement_waiting",
        help="The distributor's company runs a placement plan.",
    )
    placement_waiting = fields.Boolean(
        string="In Holding Tank",
        compute="_compute_placement_waiting",
        search="_search_placement_waiting",
        help="Waiting to be placed in the placement tree.",
    )
    placement_deadline = fields.Date(
        compute="_compute_placement_waiting",
        help="Last day the sponsor can place this recruit; then the placement rule does.",
    )
    placement_left_gv = fields.Float(
        string="Left Leg Volume",
        compute="_compute_placement_legs",
        help="PV of the current period in the placement subtree under slot 1.",
    )
    placement_right_gv = fields.Float(
        string="Right Leg Volume",
        compute="_compute_placement_legs",
        help="PV of the current period in the placement subtree under slot 2 (binary) or "
        "under every other slot (matrix).",
    )

    _sql_constraints = [
        (
            "placement_slot_uniq",
            "unique(placement_parent_id, placement_slot)",
            "Two distributors cannot take the same slot under one placement parent.",
        ),
        (
            "placement_slot_pos",
            "CHECK((placement_parent_id IS NULL AND placement_slot IS NULL) "
            "OR (placement_parent_id IS NOT NULL AND placement_slot >= 1))",
            "A placed distributor needs a slot of at least 1 under their placement parent.",
        ),
        (
            "no_self_placement",
            "CHECK(placement_parent_id IS NULL OR placement_parent_id != id)",
            "A distributor cannot be placed under themself.",
        ),
    ]

    def _auto_init(self):
        res = super()._auto_init()
        tools.create_index(
            self._cr,
            "ds_distributor_placement_path_prefix_index",
            self._table,
            [f"(substr(placement_path, 1, {PATH_INDEX_LEN})) text_pattern_ops"],
        )
        return res

    def init(self):
        res = super().init()
        placement_guard.install(self.env.cr)
        return res

    # ------------------------------------------------------------------ computes
    @api.depends("placement_path", "enrollment_date", "company_id")
    def _compute_placement_waiting(self):
        for rec in self:
            plan = rec.company_id._ds_placement_plan() if rec.company_id else False
            waiting = (
                bool(plan) and not rec.placement_path and rec.state != "terminated"
            )
            rec.placement_enabled = bool(plan)
            rec.placement_waiting = waiting
            rec.placement_deadline = (
                rec.enrollment_date + timedelta(days=plan.holding_days)
                if waiting and rec.enrollment_date
                else False
            )

    def _search_placement_waiting(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Unsupported search on 'In Holding Tank'."))
        rows = self.env.execute_query(
            SQL(
                """SELECT d.id FROM ds_distributor d
                     JOIN res_company c ON c.id = d.company_id
                     JOIN ds_plan p ON p.id = c.ds_placement_plan_id
                    WHERE d.placement_path IS NULL AND d.state != 'terminated'
                      AND p.active AND p.placement_rule IS NOT NULL"""
            )
        )
        op = "in" if (operator == "=") == value else "not in"
        return [("id", op, [r[0] for r in rows])]

    def _compute_placement_legs(self):
        self.placement_left_gv = self.placement_right_gv = 0.0
        placed = self.filtered("placement_path")
        for company in placed.company_id:
            period = (
                self.env["ds.period"]
                .sudo()
                ._ds_period_for_date(fields.Date.context_today(self), company)
            )
            if not period:
                continue
            mine = placed.filtered(lambda d, c=company: d.company_id == c)
            legs = self._ds_placement_leg_volumes(mine.ids, period)
            for rec in mine:
                vols = legs.get(rec.id, {})
                rec.placement_left_gv = vols.get(1, 0.0)
                rec.placement_right_gv = sum(v for s, v in vols.items() if s != 1)

    # ------------------------------------------------------------------ SQL helpers
    @api.model
    def _ds_placement_prefix_sql(self, prefix, alias="ds_distributor"):
        """SQL condition: rows of ``alias`` whose placement_path starts with ``prefix``."""
        col = SQL.identifier(alias, "placement_path")
        if len(prefix) < PATH_INDEX_LEN:
            return SQL("substr(%s, 1, %s) LIKE %s", col, PATH_INDEX_LEN, prefix + "%")
        return SQL("%s LIKE %s", col, prefix + "%")

    @api.model
    def _ds_placement_leg_volumes(self, node_ids, period):
        """{node id: {slot: PV}}: the PV of posted customer invoices and refunds of ``period``
        in each placement leg (the subtree under each slot) of ``node_ids``, one statement.

        The legs' subtrees are found through the bounded prefix index on placement_path (a
        range on the first PATH_INDEX_LEN characters, rechecked on the whole path)."""
        if not node_ids:
            return {}
        self.flush_model(["placement_parent_id", "placement_slot", "placement_path"])
        self.env["account.move"].flush_model(
            ["ds_distributor_id", "ds_period_id", "state", "move_type", "date"]
        )
        self.env["account.move.line"].flush_model(["ds_pv"])
        rows = self.env.execute_query(
            SQL(
                """
            WITH legs AS (
                SELECT id, placement_parent_id AS node_id, placement_slot AS slot, placement_path,
                       substr(placement_path, 1, %(len)s) AS pfx
                  FROM ds_distributor WHERE placement_parent_id = ANY(%(nodes)s)
            ), members AS (
                SELECT l.node_id, l.slot, m.id
                  FROM legs l
                  JOIN ds_distributor m
                    ON substr(m.placement_path, 1, %(len)s) ~>=~ l.pfx
                   AND substr(m.placement_path, 1, %(len)s) ~<~ (l.pfx || ':')
                   AND starts_with(m.placement_path, l.placement_path)
            )
            SELECT mb.node_id, mb.slot, COALESCE(SUM(aml.ds_pv), 0)
              FROM members mb
              JOIN account_move am ON am.ds_distributor_id = mb.id
              JOIN account_move_line aml ON aml.move_id = am.id
             WHERE am.state = 'posted' AND am.move_type IN %(types)s
               AND (am.ds_period_id = %(period)s
                    OR (am.ds_period_id IS NULL AND am.date BETWEEN %(dfrom)s AND %(dto)s))
          GROUP BY mb.node_id, mb.slot
            """,
                len=PATH_INDEX_LEN,
                nodes=list(node_ids),
                types=CUSTOMER_MOVE_TYPES,
                period=period.id,
                dfrom=period.date_from,
                dto=period.date_to,
            )
        )
        result = {}
        for node_id, slot, pv in rows:
            result.setdefault(node_id, {})[slot] = float(pv)
        return result

    @api.model
    def _ds_update_placement_paths(self, ids):
        """(Re)compute placement_path and placement_depth of the given distributors and their
        placement subtrees, top-down, in one recursive statement (bulk loads: set
        placement_parent_id / placement_slot with SQL, then call this). Rows of ``ids``
        without a placement parent become roots of the placement tree."""
        self._ds_update_tree_paths(
            ids, "placement_parent_id", "placement_path", "placement_depth"
        )

    @api.model
    def _ds_free_slot(self, parent_id, width):
        """The lowest free slot (1..width) under ``parent_id``, or None when all are taken."""
        rows = self.env.execute_query(
            SQL(
                """SELECT s FROM generate_series(1, %(width)s) s
                    WHERE NOT EXISTS (SELECT 1 FROM ds_distributor c
                                       WHERE c.placement_parent_id = %(parent)s
                                         AND c.placement_slot = s)
                 ORDER BY s LIMIT 1""",
                width=width,
                parent=parent_id,
            )
        )
        return rows[0][0] if rows else None

    @api.model
    def _ds_extreme_sql(self, start_id, slot):
        """(parent id, slot): the bottom of the chain that follows ``slot`` down from
        ``start_id`` (extreme left with slot 1, extreme right with the last slot)."""
        rows = self.env.execute_query(
            SQL(
                """
            WITH RECURSIVE down(id, n) AS (
                SELECT %(start)s::int, 0
                UNION ALL
                SELECT c.id, d.n + 1
                  FROM down d
                  JOIN ds_distributor c
                    ON c.placement_parent_id = d.id AND c.placement_slot = %(slot)s
            )
            SELECT id FROM down ORDER BY n DESC LIMIT 1
            """,
                start=start_id,
                slot=slot,
            )
        )
        return rows[0][0], slot

    @api.model
    def _ds_first_open_sql(self, start_id, width):
        """(parent id, slot): breadth-first, left to right, the first distributor under
        ``start_id`` (included) with a free slot, and its lowest free slot (spillover)."""
        rows = self.env.execute_query(
            SQL(
                """
            WITH RECURSIVE sub(id, lvl, ord) AS (
                SELECT %(start)s::int, 0, ARRAY[]::int[]
                UNION ALL
                SELECT c.id, s.lvl + 1, s.ord || c.placement_slot
                  FROM sub s
                  JOIN ds_distributor c ON c.placement_parent_id = s.id
            )
            SELECT s.id
              FROM sub s
             WHERE (SELECT count(*) FROM ds_distributor x
                     WHERE x.placement_parent_id = s.id) < %(width)s
          ORDER BY s.lvl, s.ord
             LIMIT 1
            """,
                start=start_id,
                width=width,
            )
        )
        parent_id = rows[0][0]
        return parent_id, self._ds_free_slot(parent_id, width)

    def _ds_placement_anchor(self):
        """Where the automatic rule starts for ``self`` (one recruit): the sponsor when placed,
        else the nearest placed distributor up the sponsor line; empty when none."""
        self.ensure_one()
        rec = self.sudo()
        if not rec.parent_path:
            return self.browse()
        upline = [int(x) for x in rec.parent_path.rstrip("/").split("/")[:-1]]
        if not upline:
            return self.browse()
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM ds_distributor
                    WHERE id = ANY(%s) AND placement_path IS NOT NULL
                 ORDER BY depth DESC LIMIT 1""",
                upline,
            )
        )
        return self.browse(rows[0][0]) if rows else self.browse()

    def _ds_auto_target(self, plan):
        """(parent record, slot) where ``plan``'s rule places ``self`` (one recruit);
        (empty, None) for a root."""
        self.ensure_one()
        anchor = self._ds_placement_anchor()
        if not anchor:
            return self.browse(), None
        width = plan._ds_placement_width()
        rule = plan.placement_rule
        if rule == "extreme_left":
            parent_id, slot = self._ds_extreme_sql(anchor.id, 1)
        elif rule == "extreme_right":
            parent_id, slot = self._ds_extreme_sql(anchor.id, width)
        elif rule == "weaker_leg":
            period = (
                self.env["ds.period"]
                .sudo()
                ._ds_period_for_date(
                    fields.Date.context_today(self), self.sudo().company_id
                )
            )
            vols = (
                self._ds_placement_leg_volumes([anchor.id], period).get(anchor.id, {})
                if period
                else {}
            )
            # the lightest leg, ties to the left; an empty leg weighs 0
            slot = min(range(1, width + 1), key=lambda s: (vols.get(s, 0.0), s))
            head = self.env.execute_query(
                SQL(
                    """SELECT id FROM ds_distributor
                        WHERE placement_parent_id = %s AND placement_slot = %s""",
                    anchor.id,
                    slot,
                )
            )
            if head:
                parent_id, slot = self._ds_extreme_sql(head[0][0], slot)
            else:
                parent_id = anchor.id
        else:  # first_open, and manual once the holding days are over
            parent_id, slot = self._ds_first_open_sql(anchor.id, width)
        return self.browse(parent_id), slot

    # ------------------------------------------------------------------ placing
    def _ds_place_sql(self, parent, slot=None, change_type="placement", reason=""):
        """Place ``self`` (one distributor, with their placement subtree) under ``parent``
        (empty: a placement root) in ``slot`` (None: the lowest free slot). Checks company,
        loop and slot; rewrites the paths of the subtree in one statement; writes the audit
        row. No access check: callers check who may place whom."""
        self.ensure_one()
        rec = self.sudo()
        parent = parent.sudo()
        plan = rec.company_id._ds_placement_plan()
        if not plan:
            raise UserError(
                _(
                    "%(company)s has no placement plan: %(name)s follows their sponsor.",
                    company=rec.company_id.name,
                    name=rec.display_name,
                )
            )
        # before reading paths: wait for (or fail on) concurrent changes of these rows
        rec._ds_genealogy_lock_rows(parent, rec.placement_parent_id)
        rec.invalidate_recordset(list(PLACEMENT_FIELDS))
        parent.invalidate_recordset(list(PLACEMENT_FIELDS))
        if parent:
            if parent == rec:
                raise ValidationError(
                    _("%s cannot be placed under themself.", rec.display_name)
                )
            if parent.company_id != rec.company_id:
                raise ValidationError(
                    _(
                        "%(parent)s belongs to another company than %(name)s.",
                        parent=parent.display_name,
                        name=rec.display_name,
                    )
                )
            if not parent.placement_path:
                raise ValidationError(
                    _(
                        "%(parent)s is not placed yet: place them before placing %(name)s "
                        "under them.",
                        parent=parent.display_name,
                        name=rec.display_name,
                    )
                )
            if rec.placement_path and parent.placement_path.startswith(
                rec.placement_path
            ):
                raise ValidationError(
                    _(
                        "Placement loop refused: %(parent)s is in the placement subtree of "
                        "%(name)s.",
                        parent=parent.display_name,
                        name=rec.display_name,
                    )
                )
            width = plan._ds_placement_width()
            if not slot:
                slot = self._ds_free_slot(parent.id, width)
                if slot is None:
                    raise ValidationError(
                        _(
                            "Every slot under %(parent)s is taken (%(width)s).",
                            parent=parent.display_name,
                            width=width,
                        )
                    )
            if isinstance(slot, bool) or not isinstance(slot, int):
                raise ValidationError(_("The slot must be a whole number."))
            if not 1 <= slot <= width:
                raise ValidationError(
                    _(
                        "Slot %(slot)s does not exist under %(parent)s: slots are 1 to "
                        "%(width)s.",
                        slot=slot,
                        parent=parent.display_name,
                        width=width,
                    )
                )
            taken = self.env.execute_query(
                SQL(
                    """SELECT id FROM ds_distributor
                        WHERE placement_parent_id = %s AND placement_slot = %s AND id != %s""",
                    parent.id,
                    slot,
                    rec.id,
                )
            )
            if taken:
                raise ValidationError(
                    _(
                        "Slot %(slot)s under %(parent)s is already taken by %(other)s.",
                        slot=slot,
                        parent=parent.display_name,
                        other=self.browse(taken[0][0]).sudo().display_name,
                    )
                )
        else:
            slot = None
        old_parent = rec.placement_parent_id
        old_path = rec.placement_path
        new_path = f"{parent.placement_path or ''}{rec.id}/"
        self.env.cr.execute(
            SQL(
                """UPDATE ds_distributor
                      SET placement_parent_id = %s, placement_slot = %s,
                          write_date = now() at time zone 'UTC', write_uid = %s
                    WHERE id = %s""",
                parent.id or None,
                slot,
                self.env.uid,
                rec.id,
            )
        )
        if old_path:
            delta = new_path.count("/") - old_path.count("/")
            self.env.cr.execute(
                SQL(
                    """UPDATE ds_distributor
                          SET placement_path = %(new)s || substr(placement_path, %(start)s),
                              placement_depth = placement_depth + %(delta)s
                        WHERE %(cond)s""",
                    new=new_path,
                    start=len(old_path) + 1,
                    delta=delta,
                    cond=self._ds_placement_prefix_sql(old_path),
                )
            )
        else:
            self.env.cr.execute(
                SQL(
                    """UPDATE ds_distributor SET placement_path = %s, placement_depth = %s
                        WHERE id = %s""",
                    new_path,
                    new_path.count("/") - 1,
                    rec.id,
                )
            )
        self.invalidate_model(
            [
                "placement_parent_id",
                "placement_slot",
                "placement_path",
                "placement_depth",
            ]
        )
        self.env["ds.sponsor.change"].sudo().create(
            {
                "distributor_id": rec.id,
                "tree": "placement",
                "old_sponsor_id": old_parent.id,
                "new_sponsor_id": parent.id,
                "placement_slot": slot or 0,
                "change_type": change_type,
                "reason": reason or False,
                "company_id": rec.company_id.id,
            }
        )
        return True

    def _ds_place_auto(self, reason=""):
        """Place each unplaced distributor of ``self`` by their company plan's rule."""
        for rec in self.sudo():
            plan = rec.company_id._ds_placement_plan()
            if not plan or rec.placement_path:
                continue
            parent, slot = rec._ds_auto_target(plan)
            rec._ds_place_sql(parent, slot, change_type="placement_auto", reason=reason)

    def _ds_placement_on_create(self):
        """New distributors of companies with a placement plan: roots are placed at once,
        recruits by the rule when the plan has no holding days; the others wait."""
        todo = self.sudo().filtered(
            lambda d: d.company_id._ds_placement_plan() and not d.placement_path
        )
        roots = todo.filtered(lambda d: not d.sponsor_id)
        if roots:
            self.env.cr.execute(
                SQL(
                    """UPDATE ds_distributor SET placement_path = id || '/', placement_depth = 0
                        WHERE id = ANY(%s)""",
                    roots.ids,
                )
            )
            self.invalidate_model(["placement_path", "placement_depth"])
        now = (todo - roots).filtered(
            lambda d: not d.company_id._ds_placement_plan().holding_days
        )
        now._ds_place_auto(reason=_("Placed at enrollment by the placement rule."))

    @api.model_create_multi
    def create(self, vals_list):
        explicit = []
        for vals in vals_list:
            parent = vals.pop("placement_parent_id", None)
            slot = vals.pop("placement_slot", None)
            explicit.append((parent, slot))
            refused = sorted({"placement_path", "placement_depth"} & set(vals))
            if refused:
                raise UserError(
                    _("The placement path and depth follow the placement parent.")
                )
        records = super().create(vals_list)
        if any(p for p, _s in explicit):
            self._ds_check_manager()
        for rec, (parent, slot) in zip(records, explicit, strict=True):
            if parent:
                rec._ds_place_sql(
                    self.browse(parent),
                    slot or None,
                    change_type="placement",
                    reason=_("Placed at enrollment."),
                )
        records._ds_placement_on_create()
        return records

    def write(self, vals):
        placement = PLACEMENT_FIELDS.intersection(vals)
        if not placement:
            return super().write(vals)
        if {"placement_path", "placement_depth"} & placement and not self.env.su:
            raise UserError(
                _(
                    "The placement path and depth follow the placement parent: place the "
                    "distributor instead."
                )
            )
        if not self.env.su:
            self._ds_check_manager()
            self.check_access("write")
        parent = self.browse(vals.pop("placement_parent_id", False) or [])
        slot = vals.pop("placement_slot", None)
        vals.pop("placement_path", None)
        vals.pop("placement_depth", None)
        res = super().write(vals) if vals else True
        if "placement_parent_id" in placement or slot:
            for rec in self:
                rec._ds_place_sql(
                    parent
                    if "placement_parent_id" in placement
                    else rec.placement_parent_id,
                    slot or None,
                    change_type="manual",
                    reason=self._ds_default_reason(),
                )
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_placement_children(self):
        children = self.search(
            [("placement_parent_id", "in", self.ids), ("id", "not in", self.ids)],
            limit=1,
        )
        if children:
            raise UserError(
                _(
                    "You cannot delete %(parent)s: %(child)s is placed under them in the "
                    "placement tree. Place their placement children elsewhere first, or "
                    "terminate them instead.",
                    parent=children.placement_parent_id.display_name,
                    child=children.display_name,
                )
            )

    # ------------------------------------------------------------------ public API
    def action_place(self, parent=False, slot=False, reason=""):
        """Place ``self`` (one distributor, with their placement subtree) under ``parent``
        (a ds.distributor record or id; empty: a placement root) in ``slot`` (False: the lowest
        free one). Direct Selling managers only; audited."""
        self._ds_check_manager()
        self.ensure_one()
        self.check_access("write")
        if isinstance(parent, bool) or parent is None:
            parent = self.browse()
        elif isinstance(parent, int):
            parent = self.browse(parent)
        if parent and not parent.exists():
            raise UserError(
                _("The placement parent (id %s) does not exist.", parent.id)
            )
        parent.check_access("read")
        if isinstance(slot, bool):
            slot = None
        change_type = "placement_move" if self.sudo().placement_path else "placement"
        return self._ds_place_sql(parent, slot, change_type=change_type, reason=reason)

    def action_place_auto(self):
        """Place the selected waiting recruits now by the placement rule (managers)."""
        self._ds_check_manager()
        self.check_access("write")
        self._ds_place_auto(
            reason=_("Placed by %s with the placement rule.", self.env.user.name)
        )
        return True

    def get_placement_children(self):
        """The placement children of ``self`` (one distributor), by slot. The caller must be
        allowed to read ``self``; like ``get_downline`` it gets the records, and reads of them
        follow the caller's own access (a portal leader's pages read them through their
        placement-subtree check)."""
        self.ensure_one()
        self.check_access("read")
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM ds_distributor WHERE placement_parent_id = %s
                 ORDER BY placement_slot""",
                self.id,
            )
        )
        return self.browse([r[0] for r in rows])

    def action_view_placement_tree(self):
        """The placement tree below ``self`` in the hierarchy view."""
        self.ensure_one()
        ds_check_user(self.env, _("open the back-office network views"), self)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_placement_tree"
        )
        action["domain"] = [("placement_path", "!=", False)]
        action["context"] = {"hierarchy_res_id": self.id}
        return action

    def _ds_sponsor_place(self, recruit_id, parent_id, slot):
        """The sponsor ``self`` (the portal leader's own record) places their waiting recruit
        ``recruit_id`` under ``parent_id`` (in their own placement subtree) in ``slot``.

        AccessError for any id that is not theirs: a recruit they did not sponsor, one already
        placed, a parent outside their placement subtree."""
        self.ensure_one()
        leader = self.sudo()
        try:
            recruit_id, parent_id, slot = int(recruit_id), int(parent_id), int(slot)
        except (TypeError, ValueError):
            raise AccessError(_("This placement is not yours to make.")) from None
        recruit = leader.browse(recruit_id).exists()
        parent = leader.browse(parent_id).exists()
        if (
            not recruit
            or recruit.sponsor_id != leader
            or recruit.placement_path
            or recruit.state == "terminated"
            or not leader.placement_path
            or not parent
            or parent.company_id != leader.company_id
            or not (parent.placement_path or "").startswith(leader.placement_path)
        ):
            raise AccessError(_("This placement is not yours to make."))
        return recruit._ds_place_sql(
            parent,
            slot,
            change_type="placement",
            reason=_("Placed by the sponsor %s.", leader.display_name),
        )

    # ------------------------------------------------------------------ job
    @api.model
    def _cron_place_holding_tank(self, limit=500):
        """Place the recruits whose holding days are over by their plan's rule, oldest first,
        ``limit`` per run (the job re-triggers itself while some remain)."""
        today = fields.Date.context_today(self)
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """SELECT d.id FROM ds_distributor d
                     JOIN res_company c ON c.id = d.company_id
                     JOIN ds_plan p ON p.id = c.ds_placement_plan_id
                    WHERE d.placement_path IS NULL AND d.state != 'terminated'
                      AND p.active AND p.placement_rule IS NOT NULL
                      AND d.enrollment_date + p.holding_days <= %s
                 ORDER BY d.enrollment_date, d.depth, d.id
                    LIMIT %s""",
                today,
                limit + 1,
            )
        )
        ids = [r[0] for r in rows]
        more = len(ids) > limit
        done = 0
        for rec in self.sudo().browse(ids[:limit]):
            try:
                with self.env.cr.savepoint():
                    rec._ds_place_auto(
                        reason=_("Holding days over: placed by the placement rule.")
                    )
                done += 1
            except (UserError, ValidationError) as exc:
                _logger.warning("Placement of distributor %s failed: %s", rec.id, exc)
        self.env["ir.cron"]._notify_progress(done=done, remaining=1 if more else 0)
        return done
