"""The placement tree of binary and matrix plans: rules, holding tank, loops, slots, audit,
depth, guard, and the doors (JSON-RPC as each group)."""

from datetime import date, timedelta

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestPlacement(DsNetworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plan = cls.env["ds.plan"].create(
            {
                "name": "Binary",
                "placement_rule": "extreme_left",
                "placement_type": "binary",
                "holding_days": 0,
            }
        )
        cls.company.ds_placement_plan_id = cls.plan
        cls.root = cls._ds_create_distributor("Root")

    def _recruit(self, name, sponsor, **vals):
        return self._ds_create_distributor(name, sponsor, **vals)

    def _where(self, dist):
        dist.invalidate_recordset()
        return dist.placement_parent_id, dist.placement_slot

    def _assert_paths(self):
        """Every stored placement path and depth is what placement_parent_id implies."""
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id, placement_parent_id, placement_path, placement_depth FROM ds_distributor"
            " WHERE placement_path IS NOT NULL OR placement_parent_id IS NOT NULL"
        )
        rows = {r[0]: r[1:] for r in self.env.cr.fetchall()}
        for did, (parent, path, depth) in rows.items():
            expected = (rows[parent][1] if parent else "") + f"{did}/"
            self.assertEqual(path, expected, f"placement path of {did}")
            self.assertEqual(depth, expected.count("/") - 1, f"depth of {did}")

    # ------------------------------------------------------------------ rules
    def test_root_and_extreme_left(self):
        self.assertEqual(self.root.placement_path, f"{self.root.id}/")
        self.assertEqual(self.root.placement_depth, 0)
        a = self._recruit("A", self.root)
        b = self._recruit("B", self.root)
        c = self._recruit("C", a)  # A's recruit: extreme left under A = under B
        self.assertEqual(self._where(a), (self.root, 1))
        self.assertEqual(self._where(b), (a, 1))
        self.assertEqual(self._where(c), (b, 1))
        self.assertEqual(c.placement_path, f"{self.root.id}/{a.id}/{b.id}/{c.id}/")
        self.assertEqual(c.placement_depth, 3)
        # the sponsor tree is untouched
        self.assertEqual(b.sponsor_id, self.root)
        audit = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", c.id), ("tree", "=", "placement")]
        )
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit.change_type, "placement_auto")
        self.assertEqual((audit.new_sponsor_id, audit.placement_slot), (b, 1))
        self._assert_paths()

    def test_extreme_right(self):
        self.plan.placement_rule = "extreme_right"
        a = self._recruit("A", self.root)
        b = self._recruit("B", self.root)
        self.assertEqual(self._where(a), (self.root, 2))
        self.assertEqual(self._where(b), (a, 2))

    def test_first_open_spillover_binary(self):
        self.plan.placement_rule = "first_open"
        recruits = [self._recruit(n, self.root) for n in "ABCDEF"]
        a, b, c, d, e, f = recruits
        self.assertEqual(self._where(a), (self.root, 1))
        self.assertEqual(self._where(b), (self.root, 2))
        self.assertEqual(self._where(c), (a, 1))
        self.assertEqual(self._where(d), (a, 2))
        self.assertEqual(self._where(e), (b, 1))
        self.assertEqual(self._where(f), (b, 2))
        # B's own recruit spills over inside B's subtree: E is B's first node with a free slot
        g = self._recruit("G", b)
        self.assertEqual(self._where(g), (e, 1))
        self._assert_paths()

    def test_first_open_matrix(self):
        self.plan.write(
            {
                "placement_rule": "first_open",
                "placement_type": "matrix",
                "matrix_width": 3,
            }
        )
        recruits = [self._recruit(n, self.root) for n in "ABCDE"]
        a, b, c, d, e = recruits
        self.assertEqual(
            [self._where(r) for r in (a, b, c)],
            [(self.root, 1), (self.root, 2), (self.root, 3)],
        )
        self.assertEqual(self._where(d), (a, 1))
        self.assertEqual(self._where(e), (a, 2))
        with self.assertRaisesRegex(ValidationError, "Slot 4 does not exist"):
            e.action_place(b, slot=4, reason="too wide")

    def test_weaker_leg(self):
        self.plan.placement_rule = "weaker_leg"
        today = fields.Date.context_today(self.root)
        self._ds_create_period(today.replace(day=1), today + timedelta(days=31))
        a = self._recruit("A", self.root)  # no volume anywhere: ties go left
        self.assertEqual(self._where(a), (self.root, 1))
        b = self._recruit("B", self.root)  # left leg 0, right leg empty 0: left again
        self.assertEqual(self._where(b), (a, 1))
        # volume in the left leg (B under A): the right leg is now the weaker one
        self._ds_invoice(b, today, [(self.product_pv100, 1)])
        c = self._recruit("C", self.root)
        self.assertEqual(self._where(c), (self.root, 2))
        self.root.invalidate_recordset()
        self.assertEqual(self.root.placement_left_gv, 100.0)
        self.assertEqual(self.root.placement_right_gv, 0.0)
        # 150 PV in the right leg: the left leg (100) is weaker; placed at its outer edge
        self._ds_invoice(c, today, [(self.product_pv100, 1), (self.product_pv10, 5)])
        d = self._recruit("D", self.root)
        self.assertEqual(self._where(d), (b, 1))

    # ------------------------------------------------------------------ holding tank
    def test_holding_tank_sponsor_then_cron(self):
        self.plan.write({"placement_rule": "first_open", "holding_days": 3})
        today = fields.Date.context_today(self.root)
        a = self._recruit("A", self.root, enrollment_date=today)
        b = self._recruit("B", self.root, enrollment_date=today)
        self.assertFalse(a.placement_path)
        self.assertTrue(a.placement_waiting)
        self.assertEqual(a.placement_deadline, today + timedelta(days=3))
        self.assertIn(a, self.Distributor.search([("placement_waiting", "=", True)]))
        # the sponsor places A in their right leg
        self.root._ds_sponsor_place(a.id, self.root.id, 2)
        self.assertEqual(self._where(a), (self.root, 2))
        # not the sponsor of B: refused, whoever asks
        with self.assertRaises(AccessError):
            a._ds_sponsor_place(b.id, a.id, 1)
        # the cron leaves B (holding days not over) ...
        self.Distributor._cron_place_holding_tank()
        self.assertFalse(b.placement_path)
        # ... until they are over: then the rule places B (first open: the root's left slot)
        b.sudo().enrollment_date = today - timedelta(days=3)
        self.Distributor._cron_place_holding_tank()
        self.assertEqual(self._where(b), (self.root, 1))
        self.assertFalse(b.placement_waiting)
        self.assertEqual(
            self.env["ds.sponsor.change"]
            .search([("distributor_id", "=", b.id), ("tree", "=", "placement")])
            .change_type,
            "placement_auto",
        )

    def test_manual_rule_waits_then_first_open(self):
        self.plan.write({"placement_rule": "manual", "holding_days": 5})
        a = self._recruit("A", self.root)  # enrolled 2025-01-01: long over
        self.assertFalse(a.placement_path)
        self.Distributor._cron_place_holding_tank()
        self.assertEqual(self._where(a), (self.root, 1))

    def test_sponsor_places_only_in_own_subtree(self):
        self.plan.write({"placement_rule": "first_open", "holding_days": 30})
        today = fields.Date.context_today(self.root)
        self.plan.holding_days = 0
        a = self._recruit("A", self.root)
        b = self._recruit("B", self.root)
        self.plan.holding_days = 30
        x = self._recruit("X", a, enrollment_date=today)
        # A may not place X under B (outside A's placement subtree) nor under X itself
        for parent in (b, self.root, x):
            with self.assertRaises(AccessError):
                a._ds_sponsor_place(x.id, parent.id, 1)
        with self.assertRaises(AccessError):
            a._ds_sponsor_place("nope", a.id, 1)
        a._ds_sponsor_place(x.id, a.id, 2)
        self.assertEqual(self._where(x), (a, 2))
        # placed already: the sponsor cannot move them again
        with self.assertRaises(AccessError):
            a._ds_sponsor_place(x.id, a.id, 1)

    # ------------------------------------------------------------------ loops, slots, moves
    def test_loop_slot_and_move(self):
        self.plan.placement_rule = "first_open"
        a, b, c, d = (self._recruit(n, self.root) for n in "ABCD")
        # A(1) B(2) under root; C(1) D(2) under A
        with self.assertRaisesRegex(ValidationError, "Placement loop refused"):
            a.action_place(c, slot=1, reason="loop")
        with self.assertRaisesRegex(ValidationError, "cannot be placed under themself"):
            a.action_place(a, slot=1, reason="self")
        with self.assertRaisesRegex(ValidationError, "already taken"):
            b.action_place(a, slot=1, reason="taken")
        # the database refuses a second child in one slot too
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        "UPDATE ds_distributor SET placement_parent_id = %s, placement_slot = 1"
                        " WHERE id = %s",
                        a.id,
                        b.id,
                    )
                )
        # move A's subtree under B's right slot... B has none: slot 1
        a.action_place(b, slot=2, reason="rebalance")
        self.assertEqual(self._where(a), (b, 2))
        c.invalidate_recordset()
        self.assertEqual(c.placement_path, f"{self.root.id}/{b.id}/{a.id}/{c.id}/")
        self.assertEqual(c.placement_depth, 3)
        self._assert_paths()
        move = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", a.id), ("change_type", "=", "placement_move")]
        )
        self.assertEqual(
            (move.tree, move.old_sponsor_id, move.new_sponsor_id, move.reason),
            ("placement", self.root, b, "rebalance"),
        )
        # an unplaced parent is refused
        self.plan.holding_days = 9
        w = self._recruit("W", self.root, enrollment_date=date.today())
        with self.assertRaisesRegex(ValidationError, "is not placed yet"):
            d.action_place(w, slot=1, reason="unplaced parent")

    def test_unlink_refused_with_placement_children(self):
        a = self._recruit("A", self.root)
        b = self._recruit("B", self.root)  # extreme left: under A
        with self.assertRaisesRegex(UserError, "is placed under them"):
            a.unlink()
        b.action_place(self.root, slot=2, reason="free A")
        a.unlink()
        self.assertFalse(a.exists())

    def test_sponsor_moves_stay_in_sponsor_tree(self):
        """Sponsor-tree audit rows keep tree = sponsor (existing rows and new moves)."""
        a = self._recruit("A", self.root)
        b = self._recruit("B", self.root)
        b.action_move(a, reason="sponsor move")
        change = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", b.id), ("change_type", "=", "move_with_downline")]
        )
        self.assertEqual(change.tree, "sponsor")
        # placement untouched by the sponsor move
        self.assertEqual(self._where(b), (a, 1))

    def test_company_without_placement_plan(self):
        self.company.ds_placement_plan_id = False
        a = self._recruit("A", self.root)
        self.assertFalse(a.placement_path)
        self.assertFalse(a.placement_parent_id)
        self.assertFalse(a.placement_waiting)
        with self.assertRaisesRegex(UserError, "has no placement plan"):
            a.action_place(self.root, slot=1, reason="no plan")
        self.Distributor._cron_place_holding_tank()
        self.assertFalse(a.placement_path)

    def test_guard_refuses_stale_path_at_commit(self):
        """Raw SQL that leaves a stale placement path fails at the commit check."""
        a = self._recruit("A", self.root)
        self.env.flush_all()
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(psycopg2.errors.CheckViolation, "Placement guard"),
        ):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        "UPDATE ds_distributor SET placement_path = '999/' || placement_path"
                        " WHERE id = %s",
                        a.id,
                    )
                )
                self.env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.env.cr.execute("SET CONSTRAINTS ALL DEFERRED")

    def test_deep_chain(self):
        """10,000 levels: paths set-based, extreme left follows the chain in SQL, loops refused."""
        depth = 10000
        chain = self._ds_create_chain(depth, root=self.root, prefix="PCH")
        # a one-legged placement chain (slot 1 under the previous one), set-based
        parents = [self.root.id] + chain.ids[:-1]
        self.env.cr.execute(
            SQL(
                """UPDATE ds_distributor d SET placement_parent_id = v.parent, placement_slot = 1
                     FROM (SELECT unnest(%s::int[]) AS id, unnest(%s::int[]) AS parent) v
                    WHERE v.id = d.id""",
                chain.ids,
                parents,
            )
        )
        self.Distributor._ds_update_placement_paths(chain.ids)
        top, bottom = chain[0], chain[-1]
        self.assertEqual(bottom.placement_depth, depth)
        self.assertTrue(bottom.placement_path.startswith(top.placement_path))
        new = self._recruit(
            "New", self.root
        )  # extreme left: under the bottom of the chain
        self.assertEqual(self._where(new), (bottom, 1))
        with self.assertRaisesRegex(ValidationError, "Placement loop refused"):
            top.action_place(new, slot=1, reason="deep loop")
        # move the lower half to the root's right slot: one statement rewrites 5,000 paths
        mid = chain[depth // 2]
        mid.action_place(self.root, slot=2, reason="split")
        new.invalidate_recordset()
        self.assertEqual(new.placement_depth, depth - depth // 2 + 1)
        self.assertTrue(new.placement_path.startswith(f"{self.root.id}/{mid.id}/"))
        self.env.cr.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.env.cr.execute("SET CONSTRAINTS ALL DEFERRED")

    # ------------------------------------------------------------------ doors
    def test_access_by_group_over_rpc_methods(self):
        """Portal users and plain Direct Selling users cannot place; managers can."""
        self.plan.holding_days = 9
        a = self._recruit("A", self.root, enrollment_date=date.today())
        ds_user = new_test_user(
            self.env, "ds_plain_user", groups="crm_direct_selling.group_ds_user"
        )
        portal = new_test_user(self.env, "ds_portal_placer", groups="base.group_portal")
        for user in (ds_user, portal):
            with self.assertRaises(AccessError):
                a.with_user(user).action_place(self.root.id, slot=1, reason="x")
            with self.assertRaises(AccessError):
                a.with_user(user).action_place_auto()
            with self.assertRaises(AccessError):
                a.with_user(user).write({"placement_parent_id": self.root.id})
        with self.assertRaises(UserError):
            a.write({"placement_path": "1/"})
        self.assertFalse(a.placement_path)
        a.action_place(self.root.id, slot=2, reason="manager")
        self.assertEqual(self._where(a), (self.root, 2))

    def test_wizard(self):
        self.plan.holding_days = 9
        a = self._recruit("A", self.root, enrollment_date=date.today())
        wizard = (
            self.env["ds.distributor.place"]
            .with_context(default_distributor_id=a.id)
            .create({"parent_id": self.root.id, "slot": 2, "reason": "wizard"})
        )
        wizard.action_place()
        self.assertEqual(self._where(a), (self.root, 2))
        self.assertTrue(self.env.ref("crm_direct_selling.group_ds_placement"))
        self.assertEqual(
            self.env.ref("crm_direct_selling.action_ds_placement_tree").res_model,
            "ds.distributor",
        )
