from datetime import date

from odoo import Command
from odoo.tests import HttpCase, tagged

from .bonus_common import BonusCommon


@tagged("post_install", "-at_install")
class TestBonusRunTour(BonusCommon, HttpCase):
    """The bonus run form in headless Chromium: compute, review, approve, post."""

    def test_bonus_run_form(self):
        # the run lives in the accounting test company: the admin works in it
        self.env.ref("base.user_admin").write(
            {
                "company_ids": [Command.link(self.company.id)],
                "company_id": self.company.id,
                "groups_id": [
                    Command.link(
                        self.env.ref("crm_direct_selling.group_ds_manager").id
                    ),
                    Command.link(self.env.ref("account.group_account_manager").id),
                ],
            }
        )
        sponsor = self._distributor("Tour Sponsor")
        for name in ("Tour Recruit 1", "Tour Recruit 2"):
            recruit = self._distributor(name, sponsor)
            self._invoice(recruit.partner_id, 150, date(2026, 1, 10))
        self._invoice(sponsor.partner_id, 100, date(2026, 1, 10))
        self.jan.action_close()
        plan = self._levels_plan("Tour plan", [10.0])
        run = self._run(self.jan, plan)
        self.start_tour(
            f"/odoo/action-crm_direct_selling.action_ds_bonus_run/{run.id}",
            "ds_bonus_run_tour",
            login="admin",
        )
        self.assertEqual(run.state, "posted")
        self.assertEqual(len(run.move_ids), 1)
        self.assertEqual(run.move_ids.partner_id, sponsor.partner_id)
        self.assertAlmostEqual(run.move_ids.amount_total, 30.0)
