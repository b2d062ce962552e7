"""The genealogy through JSON-RPC, as the web client and a hostile portal user call it.

A portal distributor, a plain "Direct Selling / User" and a manager call ``/web/dataset/call_kw``
and ``/web/dataset/call_button`` on ds.distributor: who may move, suspend or read what.
"""

import json
import re

from odoo import Command
from odoo.tests import tagged

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestGenealogyAccess(DsPortalCommon):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ds_user = cls.env.ref("crm_direct_selling.group_ds_user")
        ds_manager = cls.env.ref("crm_direct_selling.group_ds_manager")
        Users = cls.env["res.users"].with_context(no_reset_password=True)
        cls.user_plain = Users.create(
            {
                "name": "DS Plain User",
                "login": "dsp_plain",
                "password": "dsp_plain",
                "groups_id": [Command.set(ds_user.ids)],
            }
        )
        cls.user_manager = Users.create(
            {
                "name": "DS Manager",
                "login": "dsp_manager",
                "password": "dsp_manager",
                "groups_id": [Command.set(ds_manager.ids)],
            }
        )

    # ------------------------------------------------------------------ helpers
    def rpc(self, model, method, args, kwargs=None, button=False):
        """POST a JSON-RPC call; returns (result, error dict or None)."""
        url = (
            "/web/dataset/call_button"
            if button
            else f"/web/dataset/call_kw/{model}/{method}"
        )
        response = self.url_open(
            url,
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": model,
                        "method": method,
                        "args": args,
                        "kwargs": kwargs or {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        body = response.json()
        return body.get("result"), body.get("error")

    def assertRefused(self, error, exception="odoo.exceptions.AccessError"):
        self.assertTrue(error, "the call was accepted")
        self.assertEqual(error["data"]["name"], exception, error["data"]["message"])

    @staticmethod
    def ids_of(result):
        """JSON-RPC returns a recordset as its repr, e.g. 'ds.distributor(3, 6)'."""
        return [int(i) for i in re.findall(r"\d+", result.split("(", 1)[1])]

    def tree_state(self):
        self.env.invalidate_all()
        self.env.cr.execute(
            "SELECT id, sponsor_id, parent_path, depth, state, code FROM ds_distributor ORDER BY id"
        )
        return self.env.cr.fetchall()

    # ------------------------------------------------------------------ portal
    def test_portal_cannot_move_themself(self):
        """Lana rewrites her own sponsor over JSON-RPC: refused, nothing moves."""
        before = self.tree_state()
        self.login(self.user_lana)
        for vals in (
            {"sponsor_id": self.sam.id},
            {"state": "terminated"},
            {"code": "X"},
            {"rank_id": self.rank_gold.id},
        ):
            _result, error = self.rpc("ds.distributor", "write", [[self.lana.id], vals])
            self.assertRefused(error)
        _result, error = self.rpc(
            "ds.distributor", "action_move", [[self.lana.id], self.sam.id]
        )
        self.assertRefused(error)
        self.assertEqual(self.tree_state(), before)

    def test_portal_reads_only_own_subtree(self):
        """get_downline_page / get_downline / get_upline start only from a record the caller may
        read; the upline is not listed and company totals stay hidden."""
        self.login(self.user_lana)
        for method, args in (
            ("get_downline_page", [[self.uma.id]]),
            ("get_downline", [[self.uma.id]]),
            ("get_upline", [[self.sam.id]]),
            ("get_downline_page", [[self.bob.id]]),
        ):
            result, error = self.rpc("ds.distributor", method, args)
            self.assertRefused(error)
            self.assertIsNone(result)
        # her own downline: exactly her team
        result, error = self.rpc(
            "ds.distributor", "get_downline_page", [[self.lana.id]], {"limit": 50}
        )
        self.assertIsNone(error)
        self.assertCountEqual(self.ids_of(result), self.own.ids)
        # her upline: nothing beyond her sponsor's name on her own record
        result, error = self.rpc("ds.distributor", "get_upline", [[self.lana.id]])
        self.assertIsNone(error)
        self.assertEqual(self.ids_of(result), [])
        result, error = self.rpc(
            "ds.distributor", "read", [[self.lana.id], ["sponsor_id"]]
        )
        self.assertIsNone(error)
        self.assertEqual(result[0]["sponsor_id"], [self.uma.id, self.uma.display_name])
        _result, error = self.rpc(
            "ds.distributor", "read", [[self.lana.id], ["upline_path"]]
        )
        self.assertRefused(error)
        # a silly page size is a clear error, not a full table scan
        _result, error = self.rpc(
            "ds.distributor",
            "get_downline_page",
            [[self.lana.id]],
            {"limit": 10**9},
        )
        self.assertRefused(error, "odoo.exceptions.UserError")

    def portal_reads(self):
        """What Lana reads over JSON-RPC: her own distributor record (the partner rules keep
        the other distributor records to the portal pages) and the volumes of her team."""
        self.login(self.user_lana)
        own, error = self.rpc("ds.distributor", "search_read", [[]], {"fields": ["id"]})
        self.assertIsNone(error)
        volumes, error = self.rpc(
            "ds.volume", "search_read", [[]], {"fields": ["distributor_id"]}
        )
        self.assertIsNone(error)
        return [r["id"] for r in own], {r["distributor_id"][0] for r in volumes}

    def test_portal_rules_follow_a_move(self):
        """After a manager moves Lana (with her team) under Sam, her portal reads of her own
        record and her team's volumes still work in the same server process: the cached rule
        prefix is invalidated."""
        team = set((self.lana | self.own).ids)
        self.assertEqual(self.portal_reads(), ([self.lana.id], team))
        self.login(self.user_manager)
        _result, error = self.rpc(
            "ds.distributor",
            "action_move",
            [[self.lana.id], self.sam.id],
            {"reason": "team transfer"},
        )
        self.assertIsNone(error)
        self.env.invalidate_all()
        self.assertTrue(self.lana.parent_path.startswith(self.sam.parent_path))
        self.assertEqual(self.portal_reads(), ([self.lana.id], team))

    # ------------------------------------------------------------------ back office
    def test_plain_user_cannot_rewire(self):
        """A "Direct Selling / User" cannot move, terminate, suspend or rewrite a sponsor, code
        or rank; they still enrol a new distributor under a sponsor."""
        before = self.tree_state()
        self.login(self.user_plain)
        _result, error = self.rpc(
            "ds.distributor", "write", [[self.sam.id], {"sponsor_id": self.fay.id}]
        )
        self.assertRefused(error)
        for method, args in (
            ("action_move", [[self.sam.id], self.fay.id]),
            ("action_terminate", [[self.fay.id]]),
        ):
            _result, error = self.rpc("ds.distributor", method, args)
            self.assertRefused(error)
        for method in ("action_suspend", "action_reactivate"):
            _result, error = self.rpc(
                "ds.distributor", method, [[self.fay.id]], button=True
            )
            self.assertRefused(error)
        self.assertEqual(self.tree_state(), before)
        result, error = self.rpc(
            "ds.distributor",
            "create",
            [{"name": "New Recruit", "sponsor_id": self.fay.id}],
        )
        self.assertIsNone(error)
        recruit = self.env["ds.distributor"].browse(result)
        self.assertEqual(recruit.parent_path, f"{self.fay.parent_path}{recruit.id}/")
        _result, error = self.rpc(
            "ds.distributor",
            "create",
            [{"name": "Ranked Recruit", "rank_id": self.rank_gold.id}],
        )
        self.assertRefused(error)

    def test_manager_moves_are_audited(self):
        """A manager's direct write of a sponsor (as the form or an import does) moves the whole
        team and leaves an audit row naming who and why; suspension is audited too."""
        self.login(self.user_manager)
        _result, error = self.rpc(
            "ds.distributor",
            "write",
            [[self.fay.id], {"sponsor_id": self.finn.id}],
            {"context": {"ds_change_reason": "ticket 42"}},
        )
        self.assertIsNone(error)
        self.env.invalidate_all()
        self.assertEqual(
            self.dee.parent_path,
            f"{self.finn.parent_path}{self.fay.id}/{self.dan.id}/{self.dee.id}/",
        )
        change = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", self.fay.id)], limit=1
        )
        self.assertEqual(
            (change.change_type, change.reason, change.user_id),
            ("manual", "ticket 42", self.user_manager),
        )
        _result, error = self.rpc(
            "ds.distributor", "action_suspend", [[self.bob.id]], button=True
        )
        self.assertIsNone(error)
        self.env.invalidate_all()
        self.assertEqual(self.bob.state, "suspended")
        change = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", self.bob.id)], limit=1
        )
        self.assertEqual(change.change_type, "suspension")
        self.assertEqual(change.user_id, self.user_manager)
        self.assertTrue(change.reason)
        # the audit trail is read-only, for managers too
        for method, args in (
            ("write", [[change.id], {"reason": "nothing happened"}]),
            ("unlink", [[change.id]]),
        ):
            _result, error = self.rpc("ds.sponsor.change", method, args)
            self.assertRefused(error)
        self.assertTrue(change.exists())
        # a loop is refused with a clear message, the tree unchanged
        before = self.tree_state()
        _result, error = self.rpc(
            "ds.distributor", "action_move", [[self.lana.id], self.dee.id]
        )
        self.assertRefused(error, "odoo.exceptions.ValidationError")
        self.assertEqual(self.tree_state(), before)
