"""Grouped bonus lines add up amounts and bases only (issue 13): a grouped list read a
"Rate" of 30,735 (the rates of every line summed) and a summed "Level"."""

import json

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .bonus_common import BonusCommon


@tagged("post_install", "-at_install")
class TestBonusLineGrouping(BonusCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="ds_grp_manager",
            password="ds_grp_manager",
            groups="crm_direct_selling.group_ds_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        plan = cls._levels_plan("Grouping plan", [10.0, 5.0, 5.0])
        cls.runs = cls.env["ds.bonus.run"].create(
            [
                {"period_id": period.id, "plan_id": plan.id, "state": "computed"}
                for period in (cls.jan, cls.feb)
            ]
        )
        earner = cls._distributor("Grp Earner")
        sources = [cls._distributor(f"Grp Source {i}", earner) for i in range(3)]
        # (run, source, level, base, rate, amount)
        cls.rows = [
            (cls.runs[0], sources[0], 1, 200.0, 10.0, 20.0),
            (cls.runs[0], sources[1], 2, 100.0, 5.0, 5.0),
            (cls.runs[0], sources[2], 3, 300.0, 5.0, 15.0),
            (cls.runs[1], sources[0], 1, 50.0, 10.0, 5.0),
        ]
        cls.env["ds.bonus.line"].create(
            [
                {
                    "run_id": run.id,
                    "distributor_id": earner.id,
                    "source_distributor_id": source.id,
                    "bonus_type": "unilevel",
                    "level": level,
                    "base": base,
                    "rate": rate,
                    "amount": amount,
                    "company_id": cls.company.id,
                }
                for run, source, level, base, rate, amount in cls.rows
            ]
        )

    def _call_kw(self, model, method, args, kwargs=None):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
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
        self.assertNotIn("error", body, body.get("error"))
        return body["result"]

    def test_web_read_group_by_run_sums_amounts_not_rates(self):
        """As the list view grouped by run asks (the fields with their own aggregators)."""
        self.authenticate(self.manager.login, self.manager.login)
        described = self._call_kw(
            "ds.bonus.line",
            "fields_get",
            [["base", "rate", "level", "amount"]],
            {"attributes": ["aggregator"]},
        )
        aggregates = [
            f"{name}:{spec['aggregator']}"
            for name, spec in described.items()
            if spec.get("aggregator")
        ]
        self.assertIn("amount:sum", aggregates)
        self.assertIn("base:sum", aggregates)
        self.assertNotIn("rate:sum", aggregates)
        self.assertNotIn("level:sum", aggregates)
        result = self._call_kw(
            "ds.bonus.line",
            "web_read_group",
            [[("run_id", "in", self.runs.ids)], aggregates, ["run_id"]],
            {"lazy": True},
        )
        groups = {g["run_id"][0]: g for g in result["groups"]}
        first = groups[self.runs[0].id]
        self.assertEqual(first["run_id_count"], 3)
        self.assertAlmostEqual(first["amount"], 40.0)
        self.assertAlmostEqual(first["base"], 600.0)
        # a rate is averaged over the lines, never summed (20.0); a level is not aggregated
        self.assertAlmostEqual(first["rate"], 20.0 / 3, places=4)
        self.assertNotIn("level", first)
        self.assertAlmostEqual(groups[self.runs[1].id]["rate"], 10.0)
        # a bare field name gets the field's own aggregator (the legacy read_group)
        legacy = self._call_kw(
            "ds.bonus.line",
            "read_group",
            [
                [("run_id", "=", self.runs[0].id)],
                ["level", "rate", "amount"],
                ["run_id"],
            ],
        )
        self.assertAlmostEqual(legacy[0]["amount"], 40.0)
        self.assertNotEqual(legacy[0].get("rate"), 20.0)
        self.assertFalse(legacy[0].get("level"))

    def test_menu_action_groups_by_run(self):
        action = self.env.ref("crm_direct_selling.action_ds_bonus_line")
        context = safe_eval(action.context)
        self.assertEqual(context.get("search_default_group_run"), 1)
        self.assertIn("graph", action.view_mode)
        from_run = self.runs[0].action_view_lines()
        self.assertEqual(from_run["domain"], [("run_id", "=", self.runs[0].id)])
        self.assertEqual(from_run["context"], {"search_default_group_distributor": 1})
