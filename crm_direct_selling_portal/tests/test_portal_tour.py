from odoo.tests import tagged

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestDsPortalTour(DsPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_bonus_data()

    def test_leader_tour(self):
        """A leader browses the tree two levels deep, opens a member, reads the rank
        progress, finds the statement link and writes to the new recruits."""
        self.start_tour("/my", "ds_portal_leader_tour", login=self.user_lana.login)
        message = self.env["ds.portal.message"].search(
            [("leader_id", "=", self.lana.id)]
        )
        self.assertEqual(len(message), 1)
        self.assertEqual(message.name, "Welcome to the team")
        self.assertEqual(message.audience, "new_recruits")
        # new recruits of Lana's subtree: Fay and Dee; Dee opted out; Bob is in another branch
        self.assertEqual(message.recipient_ids, self.fay.partner_id)
        mail_message = self.env["mail.message"].search(
            [
                ("model", "=", "ds.portal.message"),
                ("res_id", "=", message.id),
                ("message_type", "=", "comment"),
            ]
        )
        self.assertEqual(mail_message.author_id, self.lana.partner_id)
        self.assertEqual(mail_message.partner_ids, self.fay.partner_id)
        mails = self.env["mail.mail"].search(
            [("mail_message_id", "=", mail_message.id)]
        )
        self.assertEqual(mails.recipient_ids, self.fay.partner_id)
        for partner in (
            self.dee | self.dan | self.finn | self.bob | self.sam
        ).partner_id:
            self.assertNotIn(partner, mail_message.partner_ids)

    def test_dashboard_tour(self):
        """A leader opens the dashboard from the portal home: the four charts are
        drawn by Chart.js (canvases with a chart, data and a size)."""
        self.start_tour("/my", "ds_portal_dashboard_tour", login=self.user_lana.login)
