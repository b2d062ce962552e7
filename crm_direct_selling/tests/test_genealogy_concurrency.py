"""Concurrent genealogy changes in real, separate transactions.

In test mode every registry cursor shares the test's transaction, so these tests open their own
database connections (``odoo.sql_db.db_connect``), one per thread, make the transactions collide
with a barrier and check the COMMITTED state from a third connection. Everything they create is
committed and removed again at the end.

Each worker behaves as Odoo's web layer does: a serialization failure or a deadlock (the change
conflicts with another one committed after the transaction began) rolls back and retries the
whole call, up to five times; a loop refused by the loop check is a ValidationError and is not
retried.
"""

import random
import uuid

import psycopg2
from psycopg2 import errorcodes

from odoo import api, sql_db
from odoo.tests import TransactionCase, tagged

from .concurrency import run_in_threads


@tagged("post_install", "-at_install")
class TestGenealogyConcurrency(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dbname = cls.env.cr.dbname
        cls.manager_uid = cls.env.ref("base.user_admin").id

    def setUp(self):
        super().setUp()
        # committed data of each test, removed after it (one prefix per test)
        self.prefix = f"CC{uuid.uuid4().hex[:6]}-"
        self.addCleanup(self._cleanup, self.prefix)

    # ------------------------------------------------------------------ committed helpers
    @classmethod
    def _run(cls, func, uid=None):
        """Run ``func(env)`` in a new committed transaction of a real connection."""
        with sql_db.db_connect(cls.dbname).cursor() as cr:
            env = api.Environment(cr, uid or cls.manager_uid, {})
            result = func(env)
            # a separate real connection, committed by design (see the module docstring)
            cr.commit()  # pylint: disable=invalid-commit
            return result

    @classmethod
    def _cleanup(cls, prefix):
        def clean(env):
            env.cr.execute(
                "SELECT id, partner_id FROM ds_distributor WHERE code LIKE %s",
                [prefix + "%"],
            )
            rows = env.cr.fetchall()
            if not rows:
                return
            ids = [r[0] for r in rows]
            env.cr.execute(
                "DELETE FROM ds_sponsor_change WHERE distributor_id = ANY(%s)", [ids]
            )
            env.cr.execute(
                "DELETE FROM ds_volume WHERE distributor_id = ANY(%s)", [ids]
            )
            env.cr.execute(
                "UPDATE res_partner SET ds_distributor_id = NULL WHERE ds_distributor_id = ANY(%s)",
                [ids],
            )
            # one statement: the sponsor foreign key only sees the end state
            env.cr.execute("DELETE FROM ds_distributor WHERE id = ANY(%s)", [ids])
            env.cr.execute(
                "DELETE FROM res_partner WHERE id = ANY(%s)", [[r[1] for r in rows]]
            )

        cls._run(clean)

    def _tree(self, spec):
        """Create (committed) ``spec``: [(name, sponsor name or None)]; returns {name: id}."""

        def build(env):
            Distributor = env["ds.distributor"]
            ids = {}
            for name, sponsor in spec:
                ids[name] = Distributor.create(
                    {
                        "name": f"{self.prefix}{name}",
                        "code": f"{self.prefix}{name}",
                        "sponsor_id": ids[sponsor] if sponsor else False,
                    }
                ).id
            return ids

        return self._run(build)

    def _chain(self, top, names):
        return [(n, top if i == 0 else names[i - 1]) for i, n in enumerate(names)]

    # ------------------------------------------------------------------ concurrency
    def _in_threads(self, calls):
        return run_in_threads(self.dbname, self.manager_uid, calls)

    @staticmethod
    def _move(dist_id, sponsor_id, with_downline=True):
        def call(env):
            env["ds.distributor"].browse(dist_id).action_move(
                sponsor_id, with_downline=with_downline, reason="concurrency test"
            )

        return call

    def _assert_consistent(self):
        """From a fresh connection: no sponsor loop (walked through sponsor_id, independent of
        the paths), parent_path and depth exactly what sponsor_id implies, for every row."""

        def read(env):
            env.cr.execute(
                "SELECT id, sponsor_id, parent_path, depth FROM ds_distributor"
            )
            return env.cr.fetchall()

        rows = self._run(read)
        sponsor = {r[0]: r[1] for r in rows}
        stored = {r[0]: (r[2], r[3]) for r in rows}
        expected = {}

        def path_of(node):
            chain, seen = [], set()
            cur = node
            while cur is not None and cur not in expected:
                self.assertNotIn(cur, seen, f"sponsor loop through distributor {cur}")
                seen.add(cur)
                chain.append(cur)
                cur = sponsor[cur]
            base_path, base_depth = expected[cur] if cur is not None else ("", -1)
            for n in reversed(chain):
                base_path, base_depth = f"{base_path}{n}/", base_depth + 1
                expected[n] = (base_path, base_depth)
            return expected[node]

        for node in sponsor:
            self.assertEqual(
                stored[node],
                path_of(node),
                f"stale path or depth of distributor {node}",
            )

    def _committed_moves(self, ids):
        def read(env):
            env.cr.execute(
                """SELECT count(*) FROM ds_sponsor_change
                    WHERE distributor_id = ANY(%s) AND change_type = 'move_with_downline'""",
                [list(ids)],
            )
            return env.cr.fetchone()[0]

        return self._run(read)

    # ------------------------------------------------------------------ tests
    def test_sibling_swap(self):
        """X under Y and Y under X at the same moment: one moves, the other is refused."""
        ids = self._tree(
            [("R", None), ("X", "R"), ("Y", "R"), ("X1", "X"), ("Y1", "Y")]
        )
        outcomes = self._in_threads(
            [self._move(ids["X"], ids["Y"]), self._move(ids["Y"], ids["X"])]
        )
        self.assertCountEqual(outcomes, ["ok", "refused"], outcomes)
        self._assert_consistent()
        self.assertEqual(self._committed_moves(ids.values()), 1)

    def test_deep_cross(self):
        """The top of each of two deep branches moved under the bottom of the other one."""
        a = [f"A{i}" for i in range(8)]
        b = [f"B{i}" for i in range(8)]
        ids = self._tree([("R", None)] + self._chain("R", a) + self._chain("R", b))
        outcomes = self._in_threads(
            [self._move(ids["A0"], ids["B7"]), self._move(ids["B0"], ids["A7"])]
        )
        self.assertCountEqual(outcomes, ["ok", "refused"], outcomes)
        self._assert_consistent()
        self.assertEqual(self._committed_moves(ids.values()), 1)

    def test_same_subtree_and_disjoint_moves(self):
        """Moves inside one subtree and in disjoint branches all go through, one after the other."""
        ids = self._tree(
            [("R", None), ("P", "R"), ("Q", "R"), ("P1", "P"), ("P2", "P"), ("Q1", "Q")]
            + [("P11", "P1"), ("P21", "P2"), ("Q11", "Q1")]
        )
        outcomes = self._in_threads(
            [
                self._move(ids["P11"], ids["P2"]),
                self._move(ids["P21"], ids["P1"]),
                self._move(ids["Q11"], ids["R"]),
            ]
        )
        self.assertEqual(outcomes, ["ok", "ok", "ok"])
        self._assert_consistent()
        self.assertEqual(self._committed_moves(ids.values()), 3)

    def test_recruit_under_moving_subtree(self):
        """A new distributor created under X's child while X moves under Y gets the new path."""
        ids = self._tree([("R", None), ("X", "R"), ("Y", "R"), ("C", "X")])

        def recruit(env):
            env["ds.distributor"].create(
                {
                    "name": f"{self.prefix}NEW",
                    "code": f"{self.prefix}NEW",
                    "sponsor_id": ids["C"],
                }
            )

        outcomes = self._in_threads([self._move(ids["X"], ids["Y"]), recruit])
        self.assertEqual(outcomes, ["ok", "ok"])
        self._assert_consistent()

        def read(env):
            env.cr.execute(
                "SELECT parent_path FROM ds_distributor WHERE code = %s",
                [f"{self.prefix}NEW"],
            )
            return env.cr.fetchone()[0]

        self.assertTrue(
            self._run(read).startswith(f"{ids['R']}/{ids['Y']}/{ids['X']}/{ids['C']}/")
        )

    def test_soak_random_moves(self):
        """200 random moves from 4 concurrent writers on a 60-member tree: whatever commits,
        the tree stays a tree with exact paths, and every committed move has its audit row."""
        rng = random.Random(20261203)
        spec = [("N0", None)]
        for i in range(1, 60):
            spec.append((f"N{i}", f"N{rng.randrange(i)}"))
        ids = self._tree(spec)
        nodes = [ids[n] for n, _s in spec[1:]]
        pairs = [
            (rng.choice(nodes), rng.choice([ids["N0"], *nodes])) for _i in range(200)
        ]
        outcomes = []
        for start in range(0, len(pairs), 4):
            batch = [self._move(d, s) for d, s in pairs[start : start + 4] if d != s]
            outcomes += self._in_threads(batch)
        unexpected = [o for o in outcomes if o not in ("ok", "refused")]
        self.assertFalse(unexpected, unexpected[:5])
        self.assertGreater(outcomes.count("ok"), 50)
        self._assert_consistent()
        self.assertEqual(self._committed_moves(ids.values()), outcomes.count("ok"))

    # ------------------------------------------------------------------ database guard
    def test_raw_sql_move_against_recruit(self):
        """A move written in raw SQL (sponsor and paths, as an integration script would) and a
        recruit created under the moving subtree at the same moment: the database guard's
        touches make them conflict, so the tree stays exact."""
        ids = self._tree([("R", None), ("X", "R"), ("Y", "R"), ("C", "X")])

        def raw_move(env):
            env.cr.execute(
                "UPDATE ds_distributor SET sponsor_id = %s WHERE id = %s",
                [ids["Y"], ids["X"]],
            )
            prefix = f"{ids['R']}/{ids['X']}/"
            env.cr.execute(
                """UPDATE ds_distributor
                      SET parent_path = %s || substr(parent_path, %s), depth = depth + 1
                    WHERE parent_path LIKE %s""",
                [f"{ids['R']}/{ids['Y']}/{ids['X']}/", len(prefix) + 1, prefix + "%"],
            )

        def recruit(env):
            env["ds.distributor"].create(
                {
                    "name": f"{self.prefix}NEW",
                    "code": f"{self.prefix}NEW",
                    "sponsor_id": ids["C"],
                }
            )

        outcomes = self._in_threads([raw_move, recruit])
        self.assertEqual(outcomes, ["ok", "ok"])
        self._assert_consistent()

    def test_guard_refuses_stale_path_at_commit(self):
        """Raw SQL that leaves a path stale (or makes a loop): the COMMIT itself is refused and
        nothing is saved."""
        ids = self._tree([("R", None), ("X", "R"), ("Y", "R"), ("X1", "X")])

        def stale(env):
            env.cr.execute(
                "UPDATE ds_distributor SET sponsor_id = %s WHERE id = %s",
                [ids["Y"], ids["X"]],
            )

        def loop(env):
            env.cr.execute(
                "UPDATE ds_distributor SET sponsor_id = %s WHERE id = %s",
                [ids["X1"], ids["X"]],
            )

        for bad in (stale, loop):
            with self.assertRaises(psycopg2.errors.CheckViolation) as caught:
                self._run(bad)
            self.assertEqual(caught.exception.pgcode, errorcodes.CHECK_VIOLATION)
            self.assertIn("does not follow its sponsor", str(caught.exception))
        self._assert_consistent()

        def sponsor_of_x(env):
            env.cr.execute(
                "SELECT sponsor_id FROM ds_distributor WHERE id = %s", [ids["X"]]
            )
            return env.cr.fetchone()[0]

        self.assertEqual(self._run(sponsor_of_x), ids["R"])
