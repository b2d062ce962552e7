"""Concurrent placements in real, separate transactions (as test_genealogy_concurrency.py does
for the sponsor tree): two threads, each on its own database connection, collide behind a
barrier; the committed state is checked from a third connection. Everything is committed and
removed again at the end, the company's placement plan included.
"""

import uuid

from odoo import api, sql_db
from odoo.tests import TransactionCase, tagged

from .concurrency import run_in_threads


@tagged("post_install", "-at_install")
class TestPlacementConcurrency(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = cls.env.cr.dbname
        cls.manager_uid = cls.env.ref("base.user_admin").id

    def setUp(self):
        super().setUp()
        self.prefix = f"PC{uuid.uuid4().hex[:6]}-"

        def setup_plan(env):
            company = env.user.company_id
            old_plan = company.ds_placement_plan_id.id
            plan = env["ds.plan"].create(
                {
                    "name": f"{self.prefix}plan",
                    "placement_rule": "manual",
                    "holding_days": 30,
                    "company_id": company.id,
                }
            )
            company.ds_placement_plan_id = plan
            return company.id, plan.id, old_plan

        self.company_id, self.plan_id, old_plan = self._run(setup_plan)
        self.addCleanup(
            self._cleanup, self.prefix, self.company_id, old_plan, self.plan_id
        )

    @classmethod
    def _run(cls, func):
        with sql_db.db_connect(cls.dbname).cursor() as cr:
            env = api.Environment(cr, cls.manager_uid, {})
            result = func(env)
            cr.commit()  # pylint: disable=invalid-commit
            return result

    @classmethod
    def _cleanup(cls, prefix, company_id, old_plan, plan_id):
        def clean(env):
            env.cr.execute(
                "UPDATE res_company SET ds_placement_plan_id = %s WHERE id = %s",
                [old_plan or None, company_id],
            )
            env.cr.execute(
                "SELECT id, partner_id FROM ds_distributor WHERE code LIKE %s",
                [prefix + "%"],
            )
            rows = env.cr.fetchall()
            if rows:
                ids = [r[0] for r in rows]
                env.cr.execute(
                    "DELETE FROM ds_sponsor_change WHERE distributor_id = ANY(%s)",
                    [ids],
                )
                env.cr.execute(
                    "UPDATE res_partner SET ds_distributor_id = NULL"
                    " WHERE ds_distributor_id = ANY(%s)",
                    [ids],
                )
                env.cr.execute("DELETE FROM ds_distributor WHERE id = ANY(%s)", [ids])
                env.cr.execute(
                    "DELETE FROM res_partner WHERE id = ANY(%s)", [[r[1] for r in rows]]
                )
            env.cr.execute("DELETE FROM ds_plan WHERE id = %s", [plan_id])

        cls._run(clean)

    def _tree(self, spec):
        """Committed distributors ``spec``: [(name, sponsor, (placement parent, slot) or
        None)]; returns {name: id}."""

        def build(env):
            Distributor = env["ds.distributor"]
            ids = {}
            for name, sponsor, placement in spec:
                rec = Distributor.create(
                    {
                        "name": f"{self.prefix}{name}",
                        "code": f"{self.prefix}{name}",
                        "sponsor_id": ids[sponsor] if sponsor else False,
                    }
                )
                ids[name] = rec.id
                if placement:
                    rec.action_place(
                        ids[placement[0]], slot=placement[1], reason="setup"
                    )
            return ids

        return self._run(build)

    def _in_threads(self, calls):
        return run_in_threads(self.dbname, self.manager_uid, calls)

    @staticmethod
    def _place(dist_id, parent_id, slot):
        def call(env):
            env["ds.distributor"].browse(dist_id).action_place(
                parent_id, slot=slot, reason="concurrency test"
            )

        return call

    def _committed(self, ids):
        def read(env):
            env.cr.execute(
                """SELECT id, placement_parent_id, placement_slot, placement_path,
                          placement_depth FROM ds_distributor WHERE id = ANY(%s)""",
                [list(ids)],
            )
            rows = {r[0]: r[1:] for r in env.cr.fetchall()}
            env.cr.execute(
                """SELECT count(*) FROM ds_sponsor_change
                    WHERE distributor_id = ANY(%s) AND tree = 'placement'
                      AND reason = 'concurrency test'""",
                [list(ids)],
            )
            return rows, env.cr.fetchone()[0]

        return self._run(read)

    def _assert_consistent(self, rows):
        for did, (parent, _slot, path, depth) in rows.items():
            if path is None:
                self.assertIsNone(parent)
                continue
            expected = (rows[parent][2] if parent else "") + f"{did}/"
            self.assertEqual(path, expected, f"placement path of {did}")
            self.assertEqual(depth, expected.count("/") - 1)

    def test_two_recruits_one_slot(self):
        """Two waiting recruits placed into the same slot at the same moment: one is placed,
        the other refused (its retry sees the slot taken)."""
        ids = self._tree([("R", None, None), ("A", "R", None), ("B", "R", None)])
        outcomes = self._in_threads(
            [self._place(ids["A"], ids["R"], 1), self._place(ids["B"], ids["R"], 1)]
        )
        self.assertCountEqual(outcomes, ["ok", "refused"], outcomes)
        rows, audited = self._committed(ids.values())
        in_slot = [d for d, r in rows.items() if r[0] == ids["R"] and r[1] == 1]
        self.assertEqual(len(in_slot), 1)
        self.assertEqual(audited, 1)
        self._assert_consistent(rows)

    def test_cross_placement_loop(self):
        """X under Y and Y under X at the same moment: one moves, the other is refused."""
        ids = self._tree(
            [
                ("R", None, None),
                ("X", "R", ("R", 1)),
                ("Y", "R", ("R", 2)),
                ("X1", "X", ("X", 1)),
                ("Y1", "Y", ("Y", 1)),
            ]
        )
        outcomes = self._in_threads(
            [self._place(ids["X"], ids["Y1"], 1), self._place(ids["Y"], ids["X1"], 1)]
        )
        self.assertCountEqual(outcomes, ["ok", "refused"], outcomes)
        rows, audited = self._committed(ids.values())
        self.assertEqual(audited, 1)
        self._assert_consistent(rows)

    def test_disjoint_placements_both_pass(self):
        """Placements under different parents do not block each other."""
        ids = self._tree(
            [
                ("R", None, None),
                ("P", "R", ("R", 1)),
                ("Q", "R", ("R", 2)),
                ("A", "P", None),
                ("B", "Q", None),
            ]
        )
        outcomes = self._in_threads(
            [self._place(ids["A"], ids["P"], 1), self._place(ids["B"], ids["Q"], 2)]
        )
        self.assertEqual(outcomes, ["ok", "ok"])
        rows, audited = self._committed(ids.values())
        self.assertEqual(audited, 2)
        self._assert_consistent(rows)
