import logging

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from . import genealogy_guard
from .derived_table import unlink_and_apply
from .ds_access import DS_MANAGER, ds_check_manager, ds_check_user, ds_has_group

_logger = logging.getLogger(__name__)

# Length of the parent_path prefix covered by the expression index (see _auto_init).
PATH_INDEX_LEN = 1000

# Fields that place a distributor in the genealogy or carry their standing in the plan: only
# Direct Selling managers change them (moves, terminations and suspensions through their actions,
# corrections through a write), never a portal user or a plain Direct Selling user.
MANAGED_FIELDS = frozenset(
    {
        "sponsor_id",
        "state",
        "code",
        "rank_id",
        "highest_rank_id",
        "company_id",
        "partner_id",
        "parent_path",
        "depth",
        "termination_date",
    }
)
# Of those, what a Direct Selling user may still set when enrolling a new distributor.
ENROLL_FIELDS = frozenset({"sponsor_id", "code", "company_id", "partner_id", "state"})


class DsDistributor(models.Model):
    _name = "ds.distributor"
    _description = "Distributor"
    _inherits = {"res.partner": "partner_id"}
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "code, id"
    _rec_names_search = ["code", "name", "email"]

    partner_id = fields.Many2one(
        "res.partner",
        string="Related Partner",
        required=True,
        ondelete="restrict",
        index=True,
        auto_join=True,
    )
    code = fields.Char(
        required=True,
        copy=False,
        index=True,
        tracking=True,
        # drawn from the sequence in create(), not when a New form opens
        default="/",
        help="Left at / (or empty), the next code of the sequence is given on save.",
    )
    sponsor_id = fields.Many2one(
        "ds.distributor",
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The enroller. Change it through the Move wizard.",
    )
    frontline_ids = fields.One2many("ds.distributor", "sponsor_id")
    enrollment_date = fields.Date(
        default=fields.Date.context_today, required=True, tracking=True
    )
    state = fields.Selection(
        [
            ("active", "Active"),
            ("suspended", "Suspended"),
            ("terminated", "Terminated"),
        ],
        string="Status",
        default="active",
        required=True,
        tracking=True,
        index=True,
    )
    rank_id = fields.Many2one(
        "ds.rank",
        tracking=True,
        index=True,
        help="Paid-as rank of the last closed period.",
    )
    highest_rank_id = fields.Many2one("ds.rank", tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    # Maintained by set-based SQL (see _ds_update_paths); no btree index on it (fails past ~330 levels).
    parent_path = fields.Char(readonly=True, copy=False)
    depth = fields.Integer(
        aggregator=None,
        readonly=True,
        copy=False,
        index=True,
        help="Level in the genealogy, root = 0.",
    )
    termination_date = fields.Date(readonly=True, copy=False)
    # the upline is not shown to portal users (they see their sponsor's name through sponsor_id)
    upline_path = fields.Char(
        compute="_compute_upline_path", string="Upline", groups="base.group_user"
    )
    frontline_count = fields.Integer(compute="_compute_frontline_count")
    downline_count = fields.Integer(compute="_compute_downline_count")
    customer_count = fields.Integer(compute="_compute_customer_count")
    customer_ids = fields.One2many("res.partner", "ds_referrer_id", string="Customers")
    volume_ids = fields.One2many("ds.volume", "distributor_id", string="Volumes")
    sponsor_change_ids = fields.One2many(
        "ds.sponsor.change", "distributor_id", string="Genealogy Changes"
    )
    current_period_id = fields.Many2one("ds.period", compute="_compute_current_volume")
    current_pv = fields.Float(
        string="PV (this period)", compute="_compute_current_volume"
    )
    current_gv = fields.Float(
        string="GV (this period)", compute="_compute_current_volume"
    )
    downline_of_id = fields.Many2one(
        "ds.distributor",
        string="In the Downline of",
        compute="_compute_downline_of",
        search="_search_downline_of",
    )

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique(company_id, code)",
            "The distributor code must be unique per company.",
        ),
        (
            "partner_uniq",
            "unique(partner_id)",
            "A contact can be only one distributor.",
        ),
        (
            "no_self_sponsor",
            "CHECK(sponsor_id IS NULL OR sponsor_id != id)",
            "A distributor cannot sponsor themself.",
        ),
    ]

    def _auto_init(self):
        res = super()._auto_init()
        # A bounded-prefix expression index makes "parent_path LIKE 'x/y/%'" fast for prefixes up to
        # PATH_INDEX_LEN characters without the btree size limit that a full parent_path index hits.
        tools.create_index(
            self._cr,
            "ds_distributor_parent_path_prefix_index",
            self._table,
            [f"(substr(parent_path, 1, {PATH_INDEX_LEN})) text_pattern_ops"],
        )
        # deep chains make long paths: lz4 compresses/decompresses them far faster than pglz
        self._cr.execute(
            SQL(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'ds_distributor'::regclass "
                "AND attname = 'parent_path'"
            )
        )
        row = self._cr.fetchone()
        if row and row[0] != "l":
            try:
                # no flush: while modules load, pending computes may read columns of
                # models whose tables are not updated yet
                with self._cr.savepoint(flush=False):
                    self._cr.execute(
                        SQL(
                            "ALTER TABLE ds_distributor ALTER COLUMN parent_path SET COMPRESSION lz4"
                        )
                    )
            except Exception:  # noqa: BLE001 - PostgreSQL built without lz4: keep the default
                _logger.info(
                    "lz4 compression not available for ds_distributor.parent_path"
                )
        return res

    def init(self):
        res = super().init()
        genealogy_guard.install(self.env.cr)
        return res

    def _ds_genealogy_lock_rows(self, *others):
        """Lock ``self`` and ``others`` (distributors) in id order before a genealogy change reads
        their paths: a stale snapshot fails at once, and concurrent moves take their rows in the
        same order (see genealogy_guard.py)."""
        self.flush_model()
        genealogy_guard.lock_rows(
            self.env.cr, self.ids + [i for other in others for i in other.ids]
        )

    @api.model
    def _default_code(self):
        return self.env["ir.sequence"].next_by_code("ds.distributor") or "/"

    # ------------------------------------------------------------------ computes
    @api.depends("code", "name")
    def _compute_display_name(self):
        for rec in self:
            rec.display_name = (
                f"[{rec.code}] {rec.name or ''}" if rec.code else (rec.name or "")
            )

    @api.depends("parent_path")
    def _compute_upline_path(self):
        for rec in self:
            upline = rec.get_upline() if rec.id and rec.parent_path else self.browse()
            # show the nearest 10 levels, root first
            shown = upline[:10]
            names = [u.code for u in reversed(shown)]
            if len(upline) > 10:
                names.insert(0, "… (%s)" % (len(upline) - 10))
            rec.upline_path = " / ".join(names)

    def _compute_frontline_count(self):
        data = dict(
            self._read_group(
                [("sponsor_id", "in", self.ids)], ["sponsor_id"], ["__count"]
            )
        )
        for rec in self:
            rec.frontline_count = data.get(rec, 0)

    def _compute_downline_count(self):
        for rec in self:
            if not rec.id or not rec.parent_path:
                rec.downline_count = 0
                continue
            rows = self.env.execute_query(
                SQL(
                    "SELECT COUNT(*) FROM ds_distributor WHERE %s AND id != %s",
                    self._ds_path_prefix_sql(rec.parent_path),
                    rec.id,
                )
            )
            rec.downline_count = rows[0][0]

    def _compute_customer_count(self):
        data = dict(
            self.env["res.partner"]._read_group(
                [("ds_referrer_id", "in", self.ids)], ["ds_referrer_id"], ["__count"]
            )
        )
        for rec in self:
            rec.customer_count = data.get(rec, 0)

    def _compute_current_volume(self):
        Period = self.env["ds.period"]
        today = fields.Date.context_today(self)
        for rec in self:
            period = Period.search(
                [
                    ("company_id", "=", rec.company_id.id or self.env.company.id),
                    ("date_from", "<=", today),
                    ("date_to", ">=", today),
                ],
                limit=1,
            )
            rec.current_period_id = period
            rec.current_pv = rec.current_gv = 0.0
            if not period or not rec.id:
                continue
            vol = self.env["ds.volume"].search(
                [("distributor_id", "=", rec.id), ("period_id", "=", period.id)],
                limit=1,
            )
            if vol:
                rec.current_pv, rec.current_gv = vol.pv, vol.gv
            else:
                live = rec._ds_live_volume(period)
                rec.current_pv, rec.current_gv = live["pv"], live["gv"]

    def _compute_downline_of(self):
        self.downline_of_id = False

    def _search_downline_of(self, operator, value):
        if operator not in ("=", "in", "child_of"):
            raise UserError(_("Unsupported operator for 'In the Downline of'."))
        if isinstance(value, str):
            leaders = self.search(
                ["|", ("code", "=ilike", value), ("name", "ilike", value)]
            )
        else:
            leaders = self.browse(
                value if isinstance(value, (list, tuple)) else [value]
            )
        if not leaders:
            return [("id", "=", 0)]
        return [("id", "in", leaders.get_downline().ids)]

    # ------------------------------------------------------------------ genealogy SQL
    @api.model
    def _ds_path_prefix_sql(self, prefix, alias="ds_distributor"):
        """SQL condition: rows whose parent_path starts with ``prefix`` (uses the prefix index when short)."""
        col = SQL.identifier(alias, "parent_path")
        if len(prefix) < PATH_INDEX_LEN:
            # equivalent for short prefixes, served by the index and without de-toasting long paths
            return SQL("substr(%s, 1, %s) LIKE %s", col, PATH_INDEX_LEN, prefix + "%")
        return SQL("%s LIKE %s", col, prefix + "%")

    @api.model
    def _ds_update_paths(self, ids):
        """(Re)compute parent_path and depth of the given distributors and their subtrees, top-down.

        Rows whose sponsor is outside ``ids`` start from the sponsor's stored path; one recursive CTE
        walks down through sponsor_id (indexed), so a chain of any depth costs a single statement.
        """
        self._ds_update_tree_paths(ids, "sponsor_id", "parent_path", "depth")

    @api.model
    def _ds_update_tree_paths(self, ids, parent_col, path_col, depth_col):
        """Path maintenance of a tree of distributors (the sponsor tree, the placement tree):
        ``path_col`` and ``depth_col`` of ``ids`` and of their subtrees along ``parent_col``
        (indexed), top-down, in one recursive statement. Rows whose parent is outside ``ids``
        start from the parent's stored path; rows without a parent are roots."""
        ids = list(ids)
        if not ids:
            return
        self.flush_model([parent_col])
        if len(ids) >= 1000:
            # fresh statistics after bulk inserts, or the planner scans the table at every recursion step
            self.env.cr.execute(SQL("ANALYZE ds_distributor"))
        # the recursive step must follow the parent index (one row per step in a deep chain)
        self.env.cr.execute(
            SQL("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        )
        parent, path, depth = (
            SQL.identifier(c) for c in (parent_col, path_col, depth_col)
        )
        self.env.cr.execute(
            SQL(
                """
            DROP TABLE IF EXISTS ds_tmp_todo;
            CREATE TEMP TABLE ds_tmp_todo (id int PRIMARY KEY) ON COMMIT DROP;
            INSERT INTO ds_tmp_todo SELECT DISTINCT unnest(%(ids)s::int[]);
            ANALYZE ds_tmp_todo;
            WITH RECURSIVE tree(id, path, depth) AS (
                SELECT d.id, COALESCE(p.%(path)s, '') || d.id || '/', COALESCE(p.%(depth)s + 1, 0)
                  FROM ds_tmp_todo todo
                  JOIN ds_distributor d ON d.id = todo.id
             LEFT JOIN ds_distributor p ON p.id = d.%(parent)s
                 WHERE NOT EXISTS (SELECT 1 FROM ds_tmp_todo s WHERE s.id = d.%(parent)s)
                UNION ALL
                SELECT c.id, t.path || c.id || '/', t.depth + 1
                  FROM tree t
                  JOIN ds_distributor c ON c.%(parent)s = t.id
            )
            UPDATE ds_distributor d SET %(path)s = tree.path, %(depth)s = tree.depth
              FROM tree WHERE tree.id = d.id;
            DROP TABLE ds_tmp_todo;
            """,
                ids=ids,
                parent=parent,
                path=path,
                depth=depth,
            )
        )
        self.env.cr.execute(
            SQL("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on")
        )
        self.invalidate_model([path_col, depth_col])

    def _ds_rewrite_subtree(self, old_prefix, new_prefix, exclude_id=None):
        """Replace the path prefix of a whole subtree with one UPDATE and shift depths."""
        delta = new_prefix.count("/") - old_prefix.count("/")
        self.env.cr.execute(
            SQL(
                """
            UPDATE ds_distributor
               SET parent_path = %(new)s || substr(parent_path, %(start)s),
                   depth = depth + %(delta)s
             WHERE %(cond)s %(excl)s
            """,
                new=new_prefix,
                start=len(old_prefix) + 1,
                delta=delta,
                cond=self._ds_path_prefix_sql(old_prefix),
                excl=SQL("AND id != %s", exclude_id) if exclude_id else SQL(""),
            )
        )

    def _ds_set_sponsor_sql(self, new_sponsor):
        """Attach every record of ``self`` (with their subtree) under ``new_sponsor`` (may be empty).

        Raises ValidationError on a loop. Does not write audit rows.
        """
        if not self:
            return
        self._ds_genealogy_lock_rows(new_sponsor)
        new_sponsor = new_sponsor.sudo()
        if new_sponsor and new_sponsor.company_id not in self.company_id:
            raise ValidationError(
                _(
                    "The new sponsor %(sponsor)s belongs to another company.",
                    sponsor=new_sponsor.display_name,
                )
            )
        new_prefix = new_sponsor.parent_path or "" if new_sponsor else ""
        if new_sponsor:
            loops = self.filtered(
                lambda d: d.parent_path and new_prefix.startswith(d.parent_path)
            )
            if loops:
                raise ValidationError(
                    _(
                        "Sponsor loop refused: %(sponsor)s is in the downline of %(names)s.",
                        sponsor=new_sponsor.display_name,
                        names=", ".join(loops.mapped("display_name")),
                    )
                )
        self.env.cr.execute(
            SQL(
                "UPDATE ds_distributor SET sponsor_id = %s, write_date = now() at time zone 'UTC', write_uid = %s WHERE id = ANY(%s)",
                new_sponsor.id or None,
                self.env.uid,
                self.ids,
            )
        )
        for rec in self:
            self.invalidate_model(["parent_path", "depth"])
            old_path = rec.parent_path
            if not old_path:
                continue
            self._ds_rewrite_subtree(old_path, f"{new_prefix}{rec.id}/")
        self._ds_genealogy_moved()

    def _ds_rollup_frontline(self, target):
        """Attach the whole frontline of ``self`` (one record) to ``target`` with two statements."""
        self.ensure_one()
        self._ds_genealogy_lock_rows(target)
        target = target.sudo()
        if target and (target.parent_path or "").startswith(self.parent_path):
            raise ValidationError(
                _("Sponsor loop refused: %s is in the downline.", target.display_name)
            )
        self.env.cr.execute(
            SQL(
                "UPDATE ds_distributor SET sponsor_id = %s, write_date = now() at time zone 'UTC', write_uid = %s WHERE sponsor_id = %s",
                target.id or None,
                self.env.uid,
                self.id,
            )
        )
        self._ds_rewrite_subtree(
            self.parent_path,
            target.parent_path or "" if target else "",
            exclude_id=self.id,
        )
        self._ds_genealogy_moved()

    def _ds_genealogy_moved(self):
        """After a move: drop the cached paths; and when the path of a distributor who is a user
        changed in this transaction (genealogy_guard records those rows), the cached record rules
        of every server process, which hold that user's path prefix: a moved leader keeps reading
        their team. Moves of distributors without a login leave the caches alone."""
        self.invalidate_model(["sponsor_id", "frontline_ids", "parent_path", "depth"])
        if genealogy_guard.moved_users(self.env.cr):
            self.env.registry.clear_cache()

    @api.model
    def _ds_create_sql(self, vals_list, update_paths=True):
        """Create distributors (and their partners) set-based: for imports and large test networks.

        ``vals_list`` items accept: name (required), code, sponsor_id (an existing distributor id),
        enrollment_date, state, company_id, email, phone, street, city, zip, country_id, ds_birthday.
        Sponsors inside the batch can be set afterwards with SQL followed by ``_ds_update_paths``
        (pass ``update_paths=False`` to skip the path computation when you call it yourself later).
        No chatter message, no followers. Returns the new records in the order of ``vals_list``.
        """
        if not vals_list:
            return self.browse()
        self.check_access("create")
        self.env["res.partner"].check_access("create")
        self._ds_check_enroll_vals(vals_list)
        n = len(vals_list)
        partner_ids = [
            r[0]
            for r in self.env.execute_query(
                SQL(
                    "SELECT nextval('res_partner_id_seq') FROM generate_series(1, %s)",
                    n,
                )
            )
        ]
        dist_ids = [
            r[0]
            for r in self.env.execute_query(
                SQL(
                    "SELECT nextval('ds_distributor_id_seq') FROM generate_series(1, %s)",
                    n,
                )
            )
        ]
        company_id = self.env.company.id
        lang = self.env.lang or "en_US"
        today = fields.Date.context_today(self)

        def col(key, default=None):
            return [v.get(key) or default for v in vals_list]

        names = col("name")
        if not all(names):
            raise UserError(_("Every distributor needs a name."))
        emails = col("email")
        pfields = self.env["res.partner"]._fields
        partner_cols = {
            "id": (partner_ids, "int"),
            "name": (names, "varchar"),
            "complete_name": (names, "varchar"),
            "email": (emails, "varchar"),
            "email_normalized": (
                [
                    (v.get("email_normalized") or e.strip().lower()) if e else None
                    for v, e in zip(vals_list, emails, strict=True)
                ],
                "varchar",
            ),
            "phone": (col("phone"), "varchar"),
            "street": (col("street"), "varchar"),
            "city": (col("city"), "varchar"),
            "zip": (col("zip"), "varchar"),
            "country_id": (col("country_id"), "int"),
            "ds_birthday": (col("ds_birthday"), "date"),
            "commercial_partner_id": (partner_ids, "int"),
        }
        constants = {
            "lang": lang,
            "type": "contact",
            "active": True,
            "is_company": False,
            "partner_share": True,
            "customer_rank": 1,
            "supplier_rank": 0,
            "autopost_bills": "ask",
            "invoice_warn": "no-message",
            "sale_warn": "no-message",
            "picking_warn": "no-message",
            "color": 0,
            "message_bounce": 0,
        }
        constants = {
            k: v for k, v in constants.items() if k in pfields and pfields[k].store
        }
        self._ds_insert_rows("res_partner", partner_cols, constants, n)
        codes = [v.get("code") or self._default_code() for v in vals_list]
        dist_cols = {
            "id": (dist_ids, "int"),
            "partner_id": (partner_ids, "int"),
            "code": (codes, "varchar"),
            "sponsor_id": (col("sponsor_id"), "int"),
            "enrollment_date": (col("enrollment_date", today), "date"),
            "state": (col("state", "active"), "varchar"),
            "company_id": (col("company_id", company_id), "int"),
        }
        self._ds_insert_rows("ds_distributor", dist_cols, {}, n)
        self.env.cr.execute(
            SQL(
                """UPDATE res_partner p SET ds_distributor_id = d.id FROM ds_distributor d
                WHERE d.partner_id = p.id AND d.id = ANY(%s)""",
                dist_ids,
            )
        )
        records = self.browse(dist_ids)
        if update_paths:
            self._ds_update_paths(dist_ids)
        self.env["res.partner"].invalidate_model()
        self.invalidate_model()
        return records

    @api.model
    def _ds_insert_rows(self, table, columns, constants, n):
        names = list(columns) + list(constants)
        selects = [SQL.identifier(c) for c in columns] + [
            SQL("%s", v) for v in constants.values()
        ]
        unnests = [
            SQL("%s::" + typ + "[]", values) for values, typ in columns.values()
        ]  # typ is a literal
        self.env.cr.execute(
            SQL(
                """INSERT INTO %(table)s (%(cols)s, create_uid, write_uid, create_date, write_date)
               SELECT %(selects)s, %(uid)s, %(uid)s, now() at time zone 'UTC', now() at time zone 'UTC'
                 FROM unnest(%(unnests)s) AS t(%(names)s)""",
                table=SQL.identifier(table),
                cols=SQL(", ").join(SQL.identifier(c) for c in names),
                selects=SQL(", ").join(selects),
                uid=self.env.uid,
                unnests=SQL(", ").join(unnests),
                names=SQL(", ").join(SQL.identifier(c) for c in columns),
            )
        )

    # ------------------------------------------------------------------ public API
    def get_downline(self, depth=None):
        """All distributors below ``self`` (excluding self), optionally limited to ``depth`` levels.

        The caller must be allowed to read ``self`` (a portal user: their own record or their
        subtree), so nobody lists the downline of a record they cannot see."""
        if not self:
            return self.browse()
        self.check_access("read")
        if depth is not None:
            depth = self._ds_int_arg(depth, "depth")
        self.flush_model(["parent_path", "depth"])
        conds = []
        for rec in self:
            if not rec.parent_path:
                continue
            cond = self._ds_path_prefix_sql(rec.parent_path)
            if depth is not None:
                cond = SQL("%s AND depth <= %s", cond, rec.depth + depth)
            conds.append(SQL("(%s)", cond))
        if not conds:
            return self.browse()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM ds_distributor WHERE (%s) AND id != ALL(%s) ORDER BY depth, id",
                SQL(" OR ").join(conds),
                self.ids,
            )
        )
        return self.browse([r[0] for r in rows])

    def get_downline_page(self, limit=80, offset=0):
        """One page of the downline of ``self`` in genealogy order (level, then code).

        Walks down one level at a time through the sponsor index and stops as soon as the page
        is full: the first page of a leader with 100,000 members reads their frontline (and the
        next levels only while the page is not full), never the whole subtree. Terminated
        distributors included, as in ``get_downline``.
        """
        self.ensure_one()
        self.check_access("read")
        limit = self._ds_int_arg(limit, "limit", maximum=1000)
        offset = self._ds_int_arg(offset, "offset")
        self.flush_model(["sponsor_id", "code"])
        want = offset + limit
        ids, parents = [], [self.id]
        while parents and len(ids) < want:
            need = want - len(ids)
            level = [
                r[0]
                for r in self.env.execute_query(
                    SQL(
                        """SELECT id FROM ds_distributor WHERE sponsor_id = ANY(%s)
                            ORDER BY code, id LIMIT %s""",
                        parents,
                        need,
                    )
                )
            ]
            ids.extend(level)
            # a level shorter than the rest of the page is complete: its members are the
            # sponsors of the next level
            parents = level if len(level) < need else []
        return self.browse(ids[offset:want])

    def get_upline(self):
        """The sponsors chain of a distributor, nearest first (direct sponsor ... root).

        Internal users get the whole chain. Anybody else (a portal distributor) gets only the
        part they may read, which is none of it: a distributor sees their sponsor's name on their
        own record (``sponsor_id``), never the rest of their upline."""
        self.ensure_one()
        self.check_access("read")
        if not self.parent_path:
            return self.browse()
        ids = [int(x) for x in self.parent_path.rstrip("/").split("/")[:-1]]
        upline = self.browse(list(reversed(ids)))
        if self.env.su or self.env.user._is_internal():
            return upline
        return upline._filtered_access("read")

    @api.model
    def _ds_int_arg(self, value, name, maximum=None):
        """``value`` as a non-negative integer (at most ``maximum``), or a UserError naming it."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UserError(
                _("%(name)s must be a whole number of at least 0.", name=name)
            )
        if maximum is not None and value > maximum:
            raise UserError(
                _("%(name)s may be at most %(max)s.", name=name, max=maximum)
            )
        return value

    def _ds_is_manager(self):
        return ds_has_group(self.env, DS_MANAGER)

    def _ds_check_manager(self):
        ds_check_manager(self.env, _("change the genealogy"), self)

    @api.model
    def _ds_check_enroll_vals(self, vals_list):
        """A Direct Selling user enrols distributors (with a sponsor); ranks, paths and any other
        state than active are set by managers only."""
        if self._ds_is_manager():
            return
        for vals in vals_list:
            refused = sorted(
                name
                for name in MANAGED_FIELDS - ENROLL_FIELDS
                if vals.get(name) not in (None, False)
            )
            if vals.get("state") not in (None, False, "active"):
                refused.append("state")
            if refused:
                raise AccessError(
                    _(
                        "Only Direct Selling managers can set %(fields)s when creating "
                        "distributor %(name)s.",
                        fields=", ".join(refused),
                        name=vals.get("name") or vals.get("code") or "",
                    )
                )

    def action_move(self, new_sponsor, with_downline=True, reason=""):
        """Move ``self`` under ``new_sponsor`` (a ds.distributor record or id; empty = make root).

        with_downline=False: the frontline of each moved distributor first rolls up to its old sponsor.
        Closed periods keep their ds.volume snapshot (sponsor and depth), so they never change.
        """
        self._ds_check_manager()
        self.check_access("write")
        if isinstance(new_sponsor, bool) or new_sponsor is None:
            new_sponsor = self.browse()
        elif isinstance(new_sponsor, int):
            new_sponsor = self.browse(new_sponsor)
        if new_sponsor and not new_sponsor.exists():
            raise UserError(
                _("The new sponsor (id %s) does not exist.", new_sponsor.id)
            )
        new_sponsor.check_access("read")
        # before the loop check reads paths: waits for (or refuses, when it was committed
        # meanwhile) any other change of these rows, so the check reads the real tree
        self._ds_genealogy_lock_rows(new_sponsor, self.sponsor_id)
        Change = self.env["ds.sponsor.change"].sudo()
        changes = []
        for rec in self:
            if new_sponsor and new_sponsor == rec:
                raise ValidationError(
                    _("A distributor cannot sponsor themself (%s).", rec.display_name)
                )
            if new_sponsor and new_sponsor.state == "terminated":
                raise ValidationError(
                    _("The new sponsor %s is terminated.", new_sponsor.display_name)
                )
            old_sponsor = rec.sponsor_id
            if not with_downline and rec.frontline_ids:
                frontline = rec.frontline_ids
                rec._ds_rollup_frontline(old_sponsor)
                changes += [
                    {
                        "distributor_id": f.id,
                        "old_sponsor_id": rec.id,
                        "new_sponsor_id": old_sponsor.id,
                        "change_type": "rollup",
                        "reason": reason,
                        "company_id": f.company_id.id,
                    }
                    for f in frontline
                ]
            rec._ds_set_sponsor_sql(new_sponsor)
            changes.append(
                {
                    "distributor_id": rec.id,
                    "old_sponsor_id": old_sponsor.id,
                    "new_sponsor_id": new_sponsor.id,
                    "change_type": "move_with_downline" if with_downline else "move",
                    "reason": reason,
                    "company_id": rec.company_id.id,
                }
            )
            rec._message_log(
                body=_(
                    "Moved from %(old)s to %(new)s (%(mode)s). %(reason)s",
                    old=old_sponsor.display_name or _("(root)"),
                    new=new_sponsor.display_name or _("(root)"),
                    mode=_("with downline") if with_downline else _("without downline"),
                    reason=reason or "",
                )
            )
        Change.create(changes)
        return True

    def _ds_next_active_upline(self):
        self.ensure_one()
        for up in self.get_upline():
            if up.state == "active":
                return up
        return self.browse()

    def action_terminate(self, reason=""):
        """Terminate ``self``: the frontline rolls up to the next active upline; audit rows are written."""
        self._ds_check_manager()
        self.check_access("write")
        self._ds_genealogy_lock_rows()
        Change = self.env["ds.sponsor.change"].sudo()
        changes = []
        today = fields.Date.context_today(self)
        for rec in self:
            if rec.state == "terminated":
                continue
            target = rec._ds_next_active_upline()
            frontline = rec.frontline_ids
            if frontline:
                rec._ds_rollup_frontline(target)
                changes += [
                    {
                        "distributor_id": f.id,
                        "old_sponsor_id": rec.id,
                        "new_sponsor_id": target.id,
                        "change_type": "termination_rollup",
                        "reason": reason,
                        "company_id": f.company_id.id,
                    }
                    for f in frontline
                ]
            changes.append(
                {
                    "distributor_id": rec.id,
                    "old_sponsor_id": rec.sponsor_id.id,
                    "new_sponsor_id": rec.sponsor_id.id,
                    "change_type": "termination",
                    "reason": reason,
                    "company_id": rec.company_id.id,
                }
            )
            rec.sudo().write({"state": "terminated", "termination_date": today})
            rec._message_log(
                body=_(
                    "Terminated; %(count)s frontline distributor(s) rolled up to %(target)s. %(reason)s",
                    count=len(frontline),
                    target=target.display_name or _("(root)"),
                    reason=reason or "",
                )
            )
        Change.create(changes)
        return True

    def action_suspend(self, reason=""):
        """Suspend active distributors (managers): audited, reversible with action_reactivate."""
        self._ds_set_state(
            self.filtered(lambda d: d.state == "active"), "suspended", reason
        )
        return True

    def action_reactivate(self, reason=""):
        """Reactivate suspended distributors (managers), audited."""
        self._ds_set_state(
            self.filtered(lambda d: d.state == "suspended"), "active", reason
        )
        return True

    def _ds_set_state(self, records, state, reason=""):
        """Suspension or reactivation of ``records`` by a manager, with one audit row each."""
        self._ds_check_manager()
        self.check_access("write")
        if not records:
            return
        records.with_context(ds_change_reason=reason or None).sudo().write(
            {"state": state}
        )

    def _ds_audit_state(self, records, old_states):
        change_type = {"suspended": "suspension", "active": "reactivation"}
        self.env["ds.sponsor.change"].sudo().create(
            [
                {
                    "distributor_id": d.id,
                    "old_sponsor_id": d.sponsor_id.id,
                    "new_sponsor_id": d.sponsor_id.id,
                    "change_type": change_type[d.state],
                    "reason": self._ds_default_reason(),
                    "company_id": d.company_id.id,
                }
                for d in records
                if old_states.get(d.id) != d.state and d.state in change_type
            ]
        )

    def _ds_default_reason(self):
        return self.env.context.get("ds_change_reason") or _(
            "Changed by %(user)s without a stated reason (form, import or API).",
            user=self.env.user.name,
        )

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        self._ds_check_enroll_vals(vals_list)
        for vals in vals_list:
            if vals.get("code") in (None, False, "", "/"):
                vals["code"] = self._default_code()
            if vals.get("company_id") and not vals.get("partner_id"):
                vals.setdefault("is_company", False)
        records = super(
            DsDistributor, self.with_context(mail_create_nolog=True)
        ).create(vals_list)
        records._ds_update_paths(records.ids)
        return records

    def write(self, vals):
        managed = MANAGED_FIELDS.intersection(vals)
        if managed and not self.env.su:
            self.check_access("write")
            if {"parent_path", "depth"} & managed:
                raise UserError(
                    _(
                        "The genealogy path and depth follow the sponsor: change the sponsor "
                        "(Move) instead."
                    )
                )
            if not self._ds_is_manager():
                raise AccessError(
                    _(
                        "Only Direct Selling managers can change %(fields)s of a distributor "
                        "(%(names)s).",
                        fields=", ".join(
                            self._fields[name].string for name in sorted(managed)
                        ),
                        names=", ".join(self[:5].mapped("display_name")),
                    )
                )
            if vals.get("state") == "terminated":
                raise UserError(
                    _(
                        "Terminate distributors with the Terminate action: their frontline "
                        "rolls up to the next active upline (%s).",
                        ", ".join(self[:5].mapped("display_name")),
                    )
                )
        old_states = {d.id: d.state for d in self} if "state" in vals else {}
        if "sponsor_id" in vals:
            new_sponsor = self.browse(vals.pop("sponsor_id") or [])
            changed = self.filtered(lambda d: d.sponsor_id != new_sponsor)
            old = {d.id: d.sponsor_id.id for d in changed}
            res = super().write(vals) if vals else True
            if changed:
                changed._ds_set_sponsor_sql(new_sponsor)
                self.env["ds.sponsor.change"].sudo().create(
                    [
                        {
                            "distributor_id": d.id,
                            "old_sponsor_id": old[d.id],
                            "new_sponsor_id": new_sponsor.id,
                            "change_type": "manual",
                            "reason": self._ds_default_reason(),
                            "company_id": d.company_id.id,
                        }
                        for d in changed
                    ]
                )
        else:
            res = super().write(vals)
        if old_states:
            self._ds_audit_state(self, old_states)
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_downline(self):
        if self.env["ds.distributor"].search_count(
            [("sponsor_id", "in", self.ids), ("id", "not in", self.ids)]
        ):
            raise UserError(
                _(
                    "You cannot delete a distributor who has a frontline; terminate them instead."
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_bonus_lines(self):
        # ds.bonus.line keeps no foreign keys (derived_table.py): its ondelete='restrict', by hand
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM ds_bonus_line
                    WHERE distributor_id = ANY(%(ids)s) OR source_distributor_id = ANY(%(ids)s)
                    LIMIT 1""",
                ids=self.ids,
            )
        )
        if self.env.cr.rowcount:
            raise UserError(
                _(
                    "You cannot delete a distributor who earned or generated bonuses; terminate them instead."
                )
            )

    def unlink(self):
        # ds.volume keeps no foreign keys (derived_table.py): its ondelete rules, by hand
        return unlink_and_apply(
            self,
            super().unlink,
            [
                ("ds_volume", "distributor_id", "cascade"),
                ("ds_volume", "sponsor_id", "set null"),
            ],
        )

    # ------------------------------------------------------------------ live volumes
    def _ds_live_volume(self, period):
        """Live PV/BV/GV of ``self`` in ``period`` from posted invoices (one query per record)."""
        self.ensure_one()
        self.env["account.move"].flush_model()
        row = self.env.execute_query(
            SQL(
                """
            SELECT COALESCE(SUM(CASE WHEN am.ds_distributor_id = %(id)s THEN aml.ds_pv END), 0),
                   COALESCE(SUM(CASE WHEN am.ds_distributor_id = %(id)s THEN aml.ds_bv END), 0),
                   COALESCE(SUM(aml.ds_pv), 0)
              FROM account_move am
              JOIN account_move_line aml ON aml.move_id = am.id
             WHERE am.state = 'posted' AND am.move_type IN ('out_invoice', 'out_refund')
               AND (am.ds_period_id = %(period)s
                    OR (am.ds_period_id IS NULL AND am.date BETWEEN %(dfrom)s AND %(dto)s))
               AND am.ds_distributor_id IN (SELECT id FROM ds_distributor WHERE %(cond)s)
            """,
                id=self.id,
                period=period.id,
                dfrom=period.date_from,
                dto=period.date_to,
                cond=self._ds_path_prefix_sql(self.parent_path or f"{self.id}/"),
            )
        )[0]
        return {"pv": float(row[0]), "bv": float(row[1]), "gv": float(row[2])}

    # ------------------------------------------------------------------ actions (smart buttons)
    def _ds_action_distributors(self, domain, name):
        ds_check_user(self.env, _("open the back-office network views"), self)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_distributor"
        )
        action.update({"domain": domain, "name": name, "context": {}})
        return action

    def action_view_frontline(self):
        self.ensure_one()
        return self._ds_action_distributors(
            [("sponsor_id", "=", self.id)], _("Frontline of %s", self.name)
        )

    def action_view_downline(self):
        self.ensure_one()
        return self._ds_action_distributors(
            [("downline_of_id", "=", self.id)], _("Downline of %s", self.name)
        )

    def action_view_customers(self):
        self.ensure_one()
        ds_check_user(self.env, _("open the back-office network views"), self)
        return {
            "type": "ir.actions.act_window",
            "name": _("Customers of %s", self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("ds_referrer_id", "=", self.id)],
            "context": {"default_ds_referrer_id": self.id},
        }

    def action_view_volumes(self):
        self.ensure_one()
        ds_check_user(self.env, _("open the back-office network views"), self)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_volume"
        )
        action.update({"domain": [("distributor_id", "=", self.id)], "context": {}})
        return action

    def action_open_move_wizard(self):
        self._ds_check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Move Distributor"),
            "res_model": "ds.distributor.move",
            "view_mode": "form",
            "target": "new",
            "context": {"default_distributor_id": self.id},
        }

    def action_open_terminate_wizard(self):
        self._ds_check_manager()
        return {
            "type": "ir.actions.act_window",
            "name": _("Terminate Distributor"),
            "res_model": "ds.distributor.terminate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_distributor_id": self.id},
        }
