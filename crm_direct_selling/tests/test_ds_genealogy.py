from datetime import date

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import DsNetworkCommon


@tagged("post_install", "-at_install")
class TestDsGenealogy(DsNetworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls._ds_create_tree(
            [
                ("A", None),
                ("B", "A"),
                ("C", "B"),
                ("D", "C"),
                ("E", "A"),
                ("F", "C"),
            ]
        )

    def _path(self, *names):
        return "".join(f"{self.t[n].id}/" for n in names)

    def test_paths_downline_upline_counts(self):
        t = self.t
        self.assertEqual(t["D"].parent_path, self._path("A", "B", "C", "D"))
        self.assertEqual(t["D"].depth, 3)
        self.assertEqual(t["A"].depth, 0)
        self.assertEqual(
            t["A"].get_downline(), t["B"] | t["E"] | t["C"] | t["D"] | t["F"]
        )
        self.assertEqual(t["A"].get_downline(depth=1), t["B"] | t["E"])
        self.assertEqual(
            t["D"].get_upline().ids, [t["C"].id, t["B"].id, t["A"].id], "nearest first"
        )
        self.assertEqual(t["A"].downline_count, 5)
        self.assertEqual(t["C"].frontline_count, 2)
        self.assertEqual(t["A"].partner_id.ds_distributor_id, t["A"])
        self.assertTrue(t["A"].code, "code from the sequence")
        found = self.Distributor.search([("downline_of_id", "=", t["B"].id)])
        self.assertEqual(found, t["C"] | t["D"] | t["F"])
        self.assertIn(t["A"].code, t["D"].upline_path)

    def test_downline_page(self):
        """Pages in genealogy order (level, then code), equal to sorting the whole downline."""
        t = self.t
        downline = t["A"].get_downline()
        expected = downline.sorted(lambda d: (d.depth, d.code, d.id)).ids
        self.assertEqual(len(expected), 5)
        for limit in (1, 2, 3, 5, 80):
            for offset in range(0, 6):
                self.assertEqual(
                    t["A"].get_downline_page(limit=limit, offset=offset).ids,
                    expected[offset : offset + limit],
                    f"limit {limit} offset {offset}",
                )
        self.assertFalse(t["D"].get_downline_page())
        chain = self._ds_create_chain(300, root=t["E"], prefix="PAGE")
        page = t["E"].get_downline_page(limit=80, offset=200)
        self.assertEqual(page.ids, chain[200:280].ids)

    def test_move_with_downline(self):
        t = self.t
        t["C"].action_move(t["E"], with_downline=True, reason="Requested by sponsor")
        self.assertEqual(t["C"].sponsor_id, t["E"])
        self.assertEqual(t["D"].parent_path, self._path("A", "E", "C", "D"))
        self.assertEqual(t["D"].depth, 3)
        self.assertEqual(t["B"].get_downline(), self.Distributor)
        change = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", t["C"].id)]
        )
        self.assertEqual(len(change), 1)
        self.assertEqual(
            (
                change.change_type,
                change.old_sponsor_id,
                change.new_sponsor_id,
                change.reason,
            ),
            ("move_with_downline", t["B"], t["E"], "Requested by sponsor"),
        )
        self.assertEqual(change.user_id, self.env.user)

    def test_move_without_downline(self):
        t = self.t
        t["C"].action_move(t["A"], with_downline=False, reason="alone")
        self.assertEqual(t["C"].sponsor_id, t["A"])
        self.assertFalse(t["C"].frontline_ids)
        self.assertEqual(
            t["D"].sponsor_id, t["B"], "frontline rolled up to the old sponsor"
        )
        self.assertEqual(t["D"].parent_path, self._path("A", "B", "D"))
        self.assertEqual(t["D"].depth, 2)
        self.assertEqual(t["C"].depth, 1)
        changes = self.env["ds.sponsor.change"].search([("reason", "=", "alone")])
        self.assertEqual(
            sorted(changes.mapped("change_type")), ["move", "rollup", "rollup"]
        )

    def test_loop_refused(self):
        t = self.t
        with self.assertRaisesRegex(ValidationError, "loop"):
            t["B"].action_move(t["D"])
        with self.assertRaises(ValidationError):
            t["A"].write({"sponsor_id": t["F"].id})
        with self.assertRaises(ValidationError):
            t["A"].action_move(t["A"])
        self.assertEqual(
            t["D"].parent_path, self._path("A", "B", "C", "D"), "nothing changed"
        )

    def test_terminate_rollup_to_next_active(self):
        t = self.t
        t["B"].action_suspend()
        t["C"].action_terminate(reason="Policy breach")
        self.assertEqual(t["C"].state, "terminated")
        self.assertEqual(
            t["D"].sponsor_id,
            t["A"],
            "B is suspended: roll-up to the next active upline",
        )
        self.assertEqual(t["F"].sponsor_id, t["A"])
        self.assertEqual(t["D"].parent_path, self._path("A", "D"))
        self.assertEqual(t["D"].depth, 1)
        rows = self.env["ds.sponsor.change"].search([("reason", "=", "Policy breach")])
        self.assertEqual(
            sorted(rows.mapped("change_type")),
            ["termination", "termination_rollup", "termination_rollup"],
        )
        rollup = rows.filtered(lambda r: r.distributor_id == t["D"])
        self.assertEqual(
            (rollup.old_sponsor_id, rollup.new_sponsor_id), (t["C"], t["A"])
        )

    def test_terminate_root_makes_frontline_roots(self):
        t = self.t
        t["A"].action_terminate(reason="closing")
        self.assertFalse(t["B"].sponsor_id)
        self.assertEqual(t["B"].depth, 0)
        self.assertEqual(t["D"].parent_path, self._path("B", "C", "D"))

    def test_wizards(self):
        t = self.t
        wiz = self.env["ds.distributor.move"].create(
            {
                "distributor_id": t["F"].id,
                "new_sponsor_id": t["E"].id,
                "with_downline": True,
                "reason": "wizard",
            }
        )
        wiz.action_move()
        self.assertEqual(t["F"].sponsor_id, t["E"])
        term = self.env["ds.distributor.terminate"].create(
            {"distributor_id": t["E"].id, "reason": "wizard end"}
        )
        self.assertEqual(term.rollup_target_id, t["A"])
        term.action_terminate()
        self.assertEqual(t["F"].sponsor_id, t["A"])

    def test_referrer_from_sale_order(self):
        customer = self.env["res.partner"].create({"name": "Walk-in"})
        order = self.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "ds_referrer_id": self.t["E"].id,
                "order_line": [
                    (0, 0, {"product_id": self.product_pv100.id, "product_uom_qty": 3})
                ],
            }
        )
        self.assertEqual(order.order_line.ds_pv, 300)
        self.assertEqual(order.ds_bv_total, 240)
        order.action_confirm()
        self.assertEqual(customer.ds_referrer_id, self.t["E"])
        self.assertEqual(self.t["E"].customer_count, 1)


@tagged("post_install", "-at_install")
class TestDsAccess(DsNetworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.t = cls._ds_create_tree([("A", None), ("B", "A"), ("C", "A")])
        cls.period = cls._ds_create_period(date(2026, 3, 1), date(2026, 3, 31))
        Users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.ds_user = Users.create(
            {
                "name": "DS User",
                "login": "ds_user_t",
                "email": "dsu@example.com",
                "groups_id": [
                    (6, 0, [cls.env.ref("crm_direct_selling.group_ds_user").id])
                ],
            }
        )
        cls.ds_manager = Users.create(
            {
                "name": "DS Manager",
                "login": "ds_manager_t",
                "email": "dsm@example.com",
                "groups_id": [
                    (6, 0, [cls.env.ref("crm_direct_selling.group_ds_manager").id])
                ],
            }
        )
        cls.nobody = Users.create(
            {
                "name": "Plain",
                "login": "plain_t",
                "email": "plain@example.com",
                "groups_id": [(6, 0, [cls.env.ref("base.group_user").id])],
            }
        )

    def test_user_rights(self):
        env = self.env(user=self.ds_user)
        dist = env["ds.distributor"].browse(self.t["B"].id)
        self.assertEqual(dist.name, "B")
        dist.write({"phone": "+1 555 0100"})
        new = env["ds.distributor"].create({"name": "By user", "sponsor_id": dist.id})
        self.assertEqual(new.sponsor_id, dist)
        with self.assertRaises(AccessError):
            dist.action_move(env["ds.distributor"].browse(self.t["C"].id))
        with self.assertRaises(AccessError):
            dist.action_terminate()
        with self.assertRaises(AccessError):
            env["ds.rank"].create({"name": "Hack", "sequence": 99})
        with self.assertRaises(AccessError):
            env["ds.period"].browse(self.period.id).action_compute_volumes()
        with self.assertRaises(AccessError):
            env["ds.distributor"].browse(new.id).unlink()

    def test_manager_rights(self):
        env = self.env(user=self.ds_manager)
        dist = env["ds.distributor"].browse(self.t["B"].id)
        dist.action_move(env["ds.distributor"].browse(self.t["C"].id), reason="mgr")
        self.assertEqual(self.t["B"].sponsor_id, self.t["C"])
        env["ds.rank"].create({"name": "New rank", "sequence": 99})
        env["ds.period"].browse(self.period.id).action_close()
        self.assertEqual(self.period.state, "closed")
        env["ds.period"].browse(self.period.id).action_reopen()
        self.assertEqual(self.period.state, "open")

    def test_no_group_no_access(self):
        with self.assertRaises(AccessError):
            self.env(user=self.nobody)["ds.distributor"].search([])
