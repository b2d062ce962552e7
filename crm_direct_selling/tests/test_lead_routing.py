from datetime import timedelta

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestLeadRouting(TransactionCase):
    """Routing rules pick the expected distributor (territory, rank,
    referrer first, round robin), respect capacity, keep UTM, and
    unaccepted leads escalate on time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.env["ds.lead.routing.rule"].search([]).active = False
        cls.fr = cls.env.ref("base.fr")
        cls.be = cls.env.ref("base.be")
        Rank = cls.env["ds.rank"]
        cls.bronze = Rank.create({"name": "LR Bronze", "sequence": 2010})
        cls.silver = Rank.create({"name": "LR Silver", "sequence": 2020})
        Distributor = cls.env["ds.distributor"]

        def distributor(name, zip_code, country, rank, sponsor=None):
            return Distributor.create(
                {
                    "name": name,
                    "email": f"{name.lower()}@example.com",
                    "zip": zip_code,
                    "country_id": country.id,
                    "rank_id": rank.id,
                    "sponsor_id": sponsor.id if sponsor else False,
                    "company_id": cls.company.id,
                }
            )

        cls.d_anne = distributor("Anne", "75001", cls.fr, cls.silver)
        cls.d_bob = distributor("Bob", "75010", cls.fr, cls.bronze, sponsor=cls.d_anne)
        cls.d_cleo = distributor(
            "Cleo", "13001", cls.fr, cls.silver, sponsor=cls.d_anne
        )
        cls.d_dirk = distributor("Dirk", "1000", cls.be, cls.silver)
        cls.d_eve = distributor("Eve", "75002", cls.fr, cls.silver, sponsor=cls.d_anne)
        cls.d_eve.state = "suspended"
        cls.salesman = cls.env["res.users"].create(
            {
                "name": "Sales Sue",
                "login": "sue.lr",
                "groups_id": [
                    (6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])
                ],
            }
        )
        cls.paris = cls.env["ds.lead.routing.rule"].create(
            {
                "name": "Paris",
                "sequence": 1,
                "country_ids": [(6, 0, cls.fr.ids)],
                "zip_prefixes": "75, 92",
                "max_open_leads": 2,
                "escalation_days": 3,
                "user_id": cls.salesman.id,
                "company_id": cls.company.id,
            }
        )
        cls.campaign = cls.env["utm.campaign"].create({"name": "LR Spring"})
        cls.source = cls.env["utm.source"].create({"name": "LR Web form"})
        cls.medium = cls.env["utm.medium"].create({"name": "LR Banner"})

    def _leads(self, count, zip_code="75005", country=None, **vals):
        country = country or self.fr
        return (
            self.env["crm.lead"]
            .with_context(ds_no_auto_route=True)
            .create(
                [
                    {
                        "name": f"Lead {zip_code} {i}",
                        "zip": zip_code,
                        "country_id": country.id,
                        "company_id": self.company.id,
                        **vals,
                    }
                    for i in range(count)
                ]
            )
        )

    def test_round_robin_and_capacity(self):
        leads = self._leads(5)
        routed = leads.action_ds_route()
        # Eve is suspended, Cleo and Dirk are outside the territory
        self.assertEqual(
            leads.mapped("ds_distributor_id"),
            self.d_anne | self.d_bob,
        )
        self.assertEqual(
            [lead.ds_distributor_id for lead in leads[:4]],
            [self.d_anne, self.d_bob, self.d_anne, self.d_bob],
            "Round robin",
        )
        self.assertFalse(
            leads[4].ds_distributor_id, "Both distributors are at capacity (2)"
        )
        self.assertEqual(routed, leads[:4])
        self.assertTrue(
            all(lead.ds_routed_date and not lead.ds_accepted for lead in leads[:4])
        )
        self.assertEqual(leads[0].ds_routing_rule_id, self.paris)
        self.assertEqual(self.paris.last_distributor_id, self.d_bob)
        self.assertEqual(self.paris.lead_count, 4)

    def test_round_robin_pointer_persists(self):
        first = self._leads(1)
        first.action_ds_route()
        self.assertEqual(first.ds_distributor_id, self.d_anne)
        second = self._leads(1)
        second.action_ds_route()
        self.assertEqual(
            second.ds_distributor_id, self.d_bob, "Continues after the stored pointer"
        )
        third = self._leads(1)
        third.action_ds_route()
        self.assertEqual(third.ds_distributor_id, self.d_anne, "Wraps around")

    def test_won_leads_free_capacity(self):
        leads = self._leads(4)
        leads.action_ds_route()
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        leads.filtered(lambda lead: lead.ds_distributor_id == self.d_anne).write(
            {"stage_id": won_stage.id}
        )
        extra = self._leads(1)
        extra.action_ds_route()
        self.assertEqual(
            extra.ds_distributor_id, self.d_anne, "Won leads are not open any more"
        )

    def test_minimum_rank(self):
        self.paris.min_rank_id = self.silver
        leads = self._leads(2)
        leads.action_ds_route()
        self.assertEqual(
            leads.ds_distributor_id,
            self.d_anne,
            "Bob (Bronze) is below the minimum rank",
        )
        self.assertEqual(leads[1].ds_distributor_id, self.d_anne)

    def test_referrer_first(self):
        customer = self.env["res.partner"].create(
            {"name": "Referred Rick", "ds_referrer_id": self.d_cleo.id}
        )
        lead = self._leads(1, partner_id=customer.id)
        self.assertEqual(lead.ds_referrer_id, self.d_cleo)
        lead.action_ds_route()
        self.assertEqual(
            lead.ds_distributor_id,
            self.d_cleo,
            "The referrer, even outside the territory",
        )
        self.paris.prefer_referrer = False
        other = self._leads(1, partner_id=customer.id)
        other.action_ds_route()
        self.assertEqual(other.ds_distributor_id, self.d_anne)

    def test_referrer_at_capacity_falls_back(self):
        customer = self.env["res.partner"].create(
            {"name": "Referred Ria", "ds_referrer_id": self.d_bob.id}
        )
        leads = self._leads(3, partner_id=customer.id)
        leads.action_ds_route()
        self.assertEqual(
            [lead.ds_distributor_id for lead in leads],
            [self.d_bob, self.d_bob, self.d_anne],
        )

    def test_territory_by_state_and_explicit_distributors(self):
        brussels_rule = self.env["ds.lead.routing.rule"].create(
            {
                "name": "Belgium",
                "sequence": 2,
                "country_ids": [(6, 0, self.be.ids)],
                "distributor_ids": [(6, 0, (self.d_dirk | self.d_cleo).ids)],
                "max_open_leads": 0,
                "company_id": self.company.id,
            }
        )
        leads = self._leads(3, zip_code="1050", country=self.be)
        leads.action_ds_route()
        self.assertEqual(leads.ds_routing_rule_id, brussels_rule)
        self.assertEqual(
            [lead.ds_distributor_id for lead in leads],
            [self.d_cleo, self.d_dirk, self.d_cleo],
        )
        nowhere = self._leads(1, zip_code="10115", country=self.env.ref("base.de"))
        nowhere.action_ds_route()
        self.assertFalse(nowhere.ds_distributor_id, "No rule for Germany")

    def test_auto_route_on_create_keeps_utm(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Web form lead",
                "zip": "92100",
                "country_id": self.fr.id,
                "campaign_id": self.campaign.id,
                "source_id": self.source.id,
                "medium_id": self.medium.id,
                "company_id": self.company.id,
            }
        )
        self.assertEqual(lead.ds_distributor_id, self.d_anne)
        self.assertEqual(lead.campaign_id, self.campaign)
        self.assertEqual(lead.source_id, self.source)
        self.assertEqual(lead.medium_id, self.medium)
        lead.action_ds_accept()
        self.assertTrue(lead.ds_accepted)
        self.assertEqual(lead.campaign_id, self.campaign)

    def test_routing_query_count_does_not_grow_per_lead(self):
        self.paris.max_open_leads = 0
        few = self._leads(3)
        many = self._leads(60)
        self.env.flush_all()
        self.env.invalidate_all()
        start = self.env.cr.sql_log_count
        few.action_ds_route()
        few_queries = self.env.cr.sql_log_count - start
        self.env.invalidate_all()
        start = self.env.cr.sql_log_count
        many.action_ds_route()
        many_queries = self.env.cr.sql_log_count - start
        self.assertTrue(all(many.mapped("ds_distributor_id")))
        self.assertLessEqual(
            many_queries, few_queries + 2, "Set-based: no query per lead"
        )

    def _age(self, leads, days):
        leads.write({"ds_routed_date": fields.Datetime.now() - timedelta(days=days)})

    def test_escalation_to_sponsor_then_company(self):
        lead = self._leads(1, campaign_id=self.campaign.id)
        lead.ds_distributor_id = self.d_bob
        lead.ds_routing_rule_id = self.paris
        self.assertTrue(
            lead.ds_routed_date, "Manual assignment stamps the routing date"
        )
        fresh = self._leads(1)
        fresh.ds_distributor_id = self.d_bob
        accepted = self._leads(1)
        accepted.ds_distributor_id = self.d_bob
        accepted.action_ds_accept()
        self._age(lead | accepted, 4)
        self._age(fresh, 1)
        self.env["crm.lead"]._cron_ds_escalate_leads()
        self.assertEqual(
            lead.ds_distributor_id, self.d_anne, "Escalated to the sponsor"
        )
        self.assertEqual(lead.ds_escalation_count, 1)
        self.assertEqual(fresh.ds_distributor_id, self.d_bob, "Not due yet")
        self.assertEqual(accepted.ds_distributor_id, self.d_bob, "Accepted leads stay")
        self.assertIn("escalated to their sponsor", lead.message_ids[0].body)
        # the sponsor does not accept either: back to the company, salesperson notified
        self.env["crm.lead"]._cron_ds_escalate_leads(
            now=fields.Datetime.now() + timedelta(days=2)
        )
        self.assertEqual(
            lead.ds_distributor_id, self.d_anne, "The sponsor's delay restarts"
        )
        self.env["crm.lead"]._cron_ds_escalate_leads(
            now=fields.Datetime.now() + timedelta(days=4)
        )
        self.assertFalse(lead.ds_distributor_id, "Back to the company")
        self.assertEqual(lead.ds_escalation_count, 2)
        self.assertIn("returned to the company", lead.message_ids[0].body)
        activity = lead.activity_ids
        self.assertEqual(len(activity), 1)
        # the lead's default salesperson is the creating user, OdooBot here: skipped
        self.assertTrue(lead.user_id._is_superuser())
        self.assertEqual(activity.user_id, self.salesman, "the routing rule's user")
        self.assertEqual(lead.campaign_id, self.campaign, "UTM kept through escalation")

    def test_escalation_without_sponsor_returns_to_company(self):
        """A returned lead without salesperson goes to the responsible set in
        Settings; with none, nobody gets a to-do (never OdooBot, who runs the cron)."""
        responsible = self.env["res.users"].create(
            {
                "name": "Rita Responsible",
                "login": "rita.routing",
                "groups_id": [(6, 0, [self.env.ref("base.group_user").id])],
            }
        )
        lead, orphan = self._leads(2, user_id=False)
        (lead | orphan).ds_distributor_id = self.d_dirk  # Dirk has no sponsor
        self._age(lead | orphan, 10)
        self.assertTrue(self.env.user._is_superuser(), "the cron runs as OdooBot")
        self.company.ds_responsible_user_id = False
        self.env["crm.lead"]._cron_ds_escalate_leads()
        self.assertFalse(orphan.ds_distributor_id, "returned to the company")
        self.assertFalse(lead.ds_distributor_id)
        self.assertFalse(
            (lead | orphan).activity_ids,
            "no to-do for OdooBot when nobody is responsible",
        )
        self.assertIn("returned to the company", orphan.message_ids[0].body)
        lead2 = self._leads(1, user_id=False)
        lead2.ds_distributor_id = self.d_dirk
        self._age(lead2, 10)
        self.company.ds_responsible_user_id = responsible
        self.env["crm.lead"]._cron_ds_escalate_leads()
        self.assertFalse(lead2.ds_distributor_id)
        self.assertEqual(lead2.activity_ids.user_id, responsible)

    def test_decline_escalates_at_once(self):
        lead = self._leads(1)
        lead.ds_distributor_id = self.d_bob
        lead.action_ds_decline()
        self.assertEqual(lead.ds_distributor_id, self.d_anne)

    def test_bad_zip_prefix(self):
        with self.assertRaises(ValidationError):
            self.paris.zip_prefixes = "75, 9%"

    def test_rules_of_another_company_do_not_apply(self):
        other_company = self.env["res.company"].create({"name": "LR Other Co"})
        self.paris.company_id = other_company
        lead = self._leads(1)
        lead.action_ds_route()
        self.assertFalse(
            lead.ds_distributor_id, "The only matching rule belongs to another company"
        )

    def test_escalation_notes_in_the_company_language(self):
        """The escalation cron runs as OdooBot: its chatter notes are written in the
        company's language, not OdooBot's."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["crm_direct_selling"], ["zh_CN"]
        )
        self.company.partner_id.lang = "zh_CN"
        lead = self._leads(1)
        lead.ds_distributor_id = self.d_bob
        self._age(lead, 10)
        self.env["crm.lead"].with_user(self.env.ref("base.user_root")).with_context(
            lang="en_US"
        )._cron_ds_escalate_leads()
        self.assertEqual(lead.ds_distributor_id, self.d_anne)
        body = str(lead.message_ids[0].body)
        self.assertNotIn("escalated to their sponsor", body)
        expected = (
            self.env["crm.lead"]
            .with_context(lang="zh_CN")
            .env._(
                "Not accepted by %(old)s in time: lead escalated to their sponsor %(new)s.",
                old=self.d_bob.display_name,
                new=self.d_anne.display_name,
            )
        )
        self.assertIn(expected, body)
