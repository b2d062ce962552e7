from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class DsPortalCommon(HttpCase):
    """A small network for the portal tests.

    Upline Uma (root)
    ├── Leader Lana            <- the portal leader
    │   ├── Frontline Fay      new recruit, active, shares contact
    │   │   └── Deep Dan       level 2
    │   │       └── Deeper Dee level 3, new recruit, opted out of messages
    │   └── Frontline Finn     active last period, inactive now (at risk)
    └── Sibling Sam            another leader (portal user)
        └── Branch Bob         other branch
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company = env.company
        cls.company.ds_active_min_pv = 100.0
        cls.currency = cls.company.currency_id
        today = fields.Date.context_today(env["ds.period"])
        first = today.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        prev_last = first - timedelta(days=1)
        prev_first = prev_last.replace(day=1)
        Rank = env["ds.rank"]
        cls.rank_bronze = Rank.create(
            {"name": "DSP Bronze", "sequence": 9001, "min_pv": 50.0}
        )
        cls.rank_silver = Rank.create(
            {"name": "DSP Silver", "sequence": 9002, "min_pv": 100.0, "min_gv": 300.0}
        )
        cls.rank_gold = Rank.create(
            {
                "name": "DSP Gold",
                "sequence": 9003,
                "min_pv": 150.0,
                "min_gv": 1000.0,
                "min_qualified_legs": 2,
                "leg_rank_id": cls.rank_bronze.id,
            }
        )
        Period = env["ds.period"]
        cls.period_prev = Period.create(
            {
                "name": "DSP prev",
                "date_from": prev_first,
                "date_to": prev_last,
                "state": "closed",
            }
        )
        cls.period = Period.create(
            {"name": "DSP current", "date_from": first, "date_to": last}
        )

        Distributor = env["ds.distributor"]
        old = today - timedelta(days=400)

        def dist(name, sponsor=None, **vals):
            values = {
                "name": name,
                "email": "{}@example.com".format(name.lower().replace(" ", ".")),
                "code": "DSP-" + name.split()[-1].upper(),
                "sponsor_id": sponsor.id if sponsor else False,
                "enrollment_date": old,
            }
            values.update(vals)
            return Distributor.create(values)

        cls.uma = dist("Upline Uma")
        cls.lana = dist(
            "Leader Lana", cls.uma, rank_id=cls.rank_silver.id, phone="+3200000001"
        )
        cls.fay = dist(
            "Frontline Fay",
            cls.lana,
            enrollment_date=today - timedelta(days=5),
            rank_id=cls.rank_bronze.id,
            phone="+3211111111",
            ds_portal_share_contact=True,
        )
        cls.dan = dist("Deep Dan", cls.fay, rank_id=cls.rank_bronze.id)
        cls.dee = dist("Deeper Dee", cls.dan, enrollment_date=today - timedelta(days=2))
        cls.dee.partner_id.ds_portal_message_opt_out = True
        cls.finn = dist("Frontline Finn", cls.lana, phone="+3222222222")
        cls.sam = dist("Sibling Sam", cls.uma)
        cls.bob = dist("Branch Bob", cls.sam, enrollment_date=today - timedelta(days=3))
        cls.own = cls.fay | cls.dan | cls.dee | cls.finn
        cls.foreign = cls.uma | cls.sam | cls.bob

        Volume = env["ds.volume"]
        vol = {
            cls.lana: (120.0, 700.0, 1, True, cls.rank_silver),
            cls.fay: (200.0, 450.0, 0, True, cls.rank_bronze),
            cls.dan: (60.0, 250.0, 0, False, cls.rank_bronze),
            cls.dee: (0.0, 0.0, 0, False, False),
            cls.finn: (30.0, 30.0, 0, False, False),
            cls.sam: (500.0, 900.0, 0, True, cls.rank_silver),
            cls.bob: (400.0, 400.0, 0, True, cls.rank_bronze),
        }
        Volume.create(
            [
                {
                    "distributor_id": d.id,
                    "period_id": cls.period.id,
                    "company_id": cls.company.id,
                    "pv": pv,
                    "gv": gv,
                    "qualified_legs": legs,
                    "is_active": active,
                    "paid_rank_id": rank.id if rank else False,
                }
                for d, (pv, gv, legs, active, rank) in vol.items()
            ]
            + [
                {
                    "distributor_id": d.id,
                    "period_id": cls.period_prev.id,
                    "company_id": cls.company.id,
                    "pv": 150.0,
                    "gv": 150.0,
                    "is_active": True,
                }
                for d in (cls.lana, cls.finn, cls.fay)
            ]
        )

        # the next rank and the GV counted toward it, as the volume step stores them
        Volume.search(
            [("distributor_id", "=", cls.lana.id), ("period_id", "=", cls.period.id)]
        ).write({"next_rank_id": cls.rank_gold.id, "next_gv": 700.0})

        portal = env.ref("base.group_portal")

        def portal_user(distributor_or_partner, login):
            return (
                env["res.users"]
                .with_context(no_reset_password=True)
                .create(
                    {
                        "login": login,
                        "password": login,
                        "partner_id": distributor_or_partner.partner_id.id
                        if distributor_or_partner._name == "ds.distributor"
                        else distributor_or_partner.id,
                        "groups_id": [Command.set(portal.ids)],
                    }
                )
            )

        cls.user_lana = portal_user(cls.lana, "dsp_lana")
        cls.user_sam = portal_user(cls.sam, "dsp_sam")
        cls.user_fay = portal_user(cls.fay, "dsp_fay")
        cls.consumer_partner = env["res.partner"].create(
            {
                "name": "Consumer Cleo",
                "email": "cleo@example.com",
                "ds_referrer_id": cls.lana.id,
            }
        )
        cls.user_consumer = portal_user(cls.consumer_partner, "dsp_cleo")
        cls.sam_customer = env["res.partner"].create(
            {
                "name": "Customer of Sam",
                "email": "cos@example.com",
                "ds_referrer_id": cls.sam.id,
            }
        )

    @classmethod
    def _create_bonus_data(cls):
        """A posted run paying Lana (with a posted vendor bill) and Sam, and a
        draft run paying Lana that the portal must never show."""
        env = cls.env
        cls.plan = env["ds.plan"].create({"name": "DSP Plan"})
        cls.bonus_run = env["ds.bonus.run"].create(
            {"period_id": cls.period_prev.id, "plan_id": cls.plan.id}
        )
        Line = env["ds.bonus.line"]
        common = {
            "run_id": cls.bonus_run.id,
            "currency_id": cls.currency.id,
            "company_id": cls.company.id,
        }
        Line.create(
            [
                dict(
                    common,
                    distributor_id=cls.lana.id,
                    bonus_type="unilevel",
                    level=1,
                    source_distributor_id=cls.fay.id,
                    base=200.0,
                    rate=10.0,
                    amount=20.0,
                ),
                dict(
                    common,
                    distributor_id=cls.lana.id,
                    bonus_type="unilevel",
                    level=2,
                    source_distributor_id=cls.dan.id,
                    base=60.0,
                    rate=5.0,
                    amount=3.0,
                ),
                dict(
                    common,
                    distributor_id=cls.lana.id,
                    bonus_type="fast_start",
                    source_distributor_id=cls.fay.id,
                    base=100.0,
                    rate=12.5,
                    amount=12.5,
                ),
                dict(
                    common,
                    distributor_id=cls.sam.id,
                    bonus_type="unilevel",
                    level=1,
                    source_distributor_id=cls.bob.id,
                    base=400.0,
                    rate=10.0,
                    amount=40.0,
                ),
            ]
        )
        cls.bill = env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": cls.lana.partner_id.id,
                "invoice_date": cls.period_prev.date_to,
                "invoice_line_ids": [
                    Command.create({"name": "Bonus", "quantity": 1, "price_unit": 35.5})
                ],
            }
        )
        cls.bill.action_post()
        cls.bonus_run.line_ids.filtered(
            lambda line: line.distributor_id == cls.lana
        ).move_id = cls.bill
        cls.bonus_run.sudo().write({"state": "posted"})
        # a draft run is never shown
        cls.period_old = env["ds.period"].create(
            {"name": "DSP old", "date_from": "2001-01-01", "date_to": "2001-01-31"}
        )
        cls.draft_run = env["ds.bonus.run"].create(
            {"period_id": cls.period_old.id, "plan_id": cls.plan.id}
        )
        Line.create(
            dict(
                common,
                run_id=cls.draft_run.id,
                distributor_id=cls.lana.id,
                bonus_type="adjustment",
                amount=999.0,
            )
        )

    def login(self, user):
        self.authenticate(user.login, user.login)

    def assertNoForeignName(self, text):
        for distributor in self.foreign:
            self.assertNotIn(distributor.name, text)
