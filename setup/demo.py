"""Build the demo database of ``./setup/run``: a network with everything in it alive.

Usage::

    setup/demo --db ds_demo --config odoo.conf [--distributors 3000 --months 6 --seed 42]
    setup/demo --db ds_demo --config odoo.conf --leader-only   # (re)create the leader login

What the demo holds (every step through the addons' public methods; the network and its
invoices set-based through setup/generate.py):

* a network of N distributors on an "organic" sponsor tree 10-25 levels deep (recent
  recruits build legs), half as many retail customers, M months of posted invoices;
* a compensation plan paying every bonus type (retail, fast start, unilevel with
  compression, rank advancement, leadership matching, payout cap, minimum payout with
  carry forward) against the shipped rank ladder (Member to Diamond);
* the past months closed (volumes, paid-as ranks) with a posted bonus run each (vendor
  bills), the current month's volumes and a computed run;
* RFM scores, refreshed segments, a measured campaign (target / control, its window in
  the past, an uplift caused by the coupon orders of part of the target group) and a
  running one;
* lead routing rules with routed opportunities, one run of the lifecycle rules;
* with the portal addon: a pricelist per rank (applied at each close), forty autoships
  paid with saved demo-provider cards (ten ordered, invoiced and paid by the autoship job
  today, one paused, one cancelled), an onboarding course every distributor attends (a
  third part way, the leader done) and a course for Silver and above;
* a leader: paid above the lowest rank, hundreds of distributors below, bonuses posted,
  with the portal login ``leader@example.com`` / ``leader``.

Importable (``DemoBuilder``): crm_direct_selling/tests/test_generator.py builds a small
demo inside its transaction.
"""

import argparse
import datetime
import importlib.util
import random
import sys
import time
from pathlib import Path

LEADER_LOGIN = "leader@example.com"
LEADER_PASSWORD = "leader"
PLAN_NAME = "Demo Compensation Plan"


def _load_generate():
    name = "ds_setup_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parent / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _log(msg):
    print(msg, flush=True)


class DemoBuilder:
    """Builds the demo on a database holding the three addons (see the module doc)."""

    def __init__(
        self,
        env,
        distributors=3000,
        months=6,
        seed=42,
        end_date=None,
        depth_range=(10, 25),
        leader_min_downline=200,
        autoship_min_downline=50,
        log=_log,
    ):
        self.env = env(su=True)
        self.autoship_min_downline = autoship_min_downline
        self.company = self.env.company
        self.n = int(distributors)
        self.months = max(int(months), 3)
        self.seed = int(seed)
        self.end_date = end_date or datetime.date.today()
        self.depth_range = depth_range
        self.leader_min_downline = int(leader_min_downline)
        self.log = log
        self.rng = random.Random(self.seed + 100)
        self.summary = {}
        self.timings = {}

    def _step(self, name, t0):
        dt = time.perf_counter() - t0
        self.timings[name] = dt
        self.log(f"  {name}: {dt:.1f} s")

    # ------------------------------------------------------------------ main
    def run(self):
        t_all = time.perf_counter()
        generate = _load_generate()
        self.gen = gen = generate.NetworkGenerator(
            self.env,
            distributors=self.n,
            months=self.months,
            seed=self.seed,
            end_date=self.end_date,
            deep_chain=0,
            tree="organic",
            depth_range=self.depth_range,
            # builders (50+ people below them) are on autoship: active every month
            autoship_min_downline=self.autoship_min_downline,
            compute_volumes=False,  # closed below, after the campaign's orders
            leader=False,
            log=self.log,
        )
        gen.run()
        self.periods = self.env["ds.period"].concat(*gen.periods)  # oldest first
        self.summary.update(
            distributors=gen.summary["distributors"],
            max_depth=gen.summary["max_depth"],
        )
        steps = (
            ("segments and the measured campaign", self._segments_and_campaign),
            ("rank prices", self._rank_prices),
            ("autoships", self._autoships),
            ("periods closed, bonus runs posted", self._plan_and_runs),
            ("segments refreshed, running campaign", self._running_campaign),
            ("leader portal login", self._leader),
            ("routed leads", self._leads),
            ("lifecycle rules run", self._lifecycle),
            ("decision models", self._decision_models),
            ("training", self._training),
        )
        self.log("Demo:")
        for name, method in steps:
            t0 = time.perf_counter()
            method()
            self.env.flush_all()
            self._step(name, t0)
        self.summary["seconds"] = time.perf_counter() - t_all
        self.log(f"Demo built in {self.summary['seconds']:.1f} s")
        return self.summary

    # -------------------------------------------------------- plan and runs
    def _plan(self):
        env = self.env
        company = self.company
        Plan = env["ds.plan"]
        plan = Plan.search(
            [("name", "=", PLAN_NAME), ("company_id", "=", company.id)], limit=1
        )
        if plan:
            return plan
        journal = env["account.journal"].search(
            [("type", "=", "purchase"), *env["account.journal"]._check_company_domain(company)],
            limit=1,
        )  # fmt: skip
        expense = env["account.account"].search(
            [
                ("account_type", "=", "expense"),
                ("deprecated", "=", False),
                *env["account.account"]._check_company_domain(company),
            ],
            limit=1,
        )
        ranks = self._ranks()

        def rank(name):
            return ranks.filtered(lambda r: r.name == name)[:1]

        return Plan.create(
            {
                "name": PLAN_NAME,
                "company_id": company.id,
                "retail_mode": "bv_rate",
                "retail_rate": 10.0,
                "fast_start_rate": 20.0,
                "fast_start_days": 30,
                "compression": True,
                "level_ids": [
                    (0, 0, {"level": level, "rate": rate})
                    for level, rate in (
                        (1, 8.0),
                        (2, 6.0),
                        (3, 5.0),
                        (4, 4.0),
                        (5, 3.0),
                        (6, 2.0),
                    )
                ],  # fmt: skip
                "rank_bonus_ids": [
                    (0, 0, {"rank_id": r.id, "amount": amount})
                    for r, amount in (
                        (rank("Bronze"), 25.0),
                        (rank("Silver"), 100.0),
                        (rank("Gold"), 250.0),
                        (rank("Platinum"), 500.0),
                        (rank("Diamond"), 1000.0),
                    )
                    if r
                ],  # fmt: skip
                "rank_pay_skipped": True,
                "matching_rank_id": (rank("Silver") or ranks[-1:]).id,
                "matching_generation_ids": [
                    (0, 0, {"generation": 1, "rate": 10.0}),
                    (0, 0, {"generation": 2, "rate": 5.0}),
                    (0, 0, {"generation": 3, "rate": 5.0}),
                ],
                "payout_cap_pct": 30.0,
                "min_payout": 20.0,
                "payout_mode": "bills",
                "journal_id": journal.id,
                "expense_account_id": expense.id,
            }
        )

    def _ranks(self):
        return self.env["ds.rank"].search(
            [("company_id", "in", [self.company.id, False])], order="sequence"
        )

    def _plan_and_runs(self):
        plan = self.plan = self._plan()
        Run = self.env["ds.bonus.run"].with_context(ds_bonus_inline=True)
        runs = Run.browse()
        current = self.periods[-1]
        for period in self.periods:
            if period == current:
                period.action_compute_volumes()
            else:
                period.action_close()  # volumes, paid-as ranks, highest ranks
            run = Run.search(
                [("period_id", "=", period.id), ("plan_id", "=", plan.id), ("simulation", "=", False)]
            )  # fmt: skip
            if not run:
                run = Run.create(
                    {"period_id": period.id, "plan_id": plan.id, "date": period.date_to}
                )
            if run.state == "draft":
                run.action_compute()
            if period != current and run.state == "computed":
                run.action_approve()
                run.action_post()
            runs |= run
        self.runs = runs
        posted = runs.filtered(lambda r: r.state == "posted")
        self.summary.update(
            plan=plan.name,
            posted_runs=len(posted),
            bills=sum(len(r.move_ids) for r in posted),
            paid=sum(posted.mapped("total_amount")),
        )
        # paid-as ranks of the last closed period
        groups = self.env["ds.distributor"]._read_group(
            [("company_id", "=", self.company.id)], ["rank_id"], ["__count"]
        )
        self.summary["ranks"] = ", ".join(
            f"{r.name or 'none'} {c}"
            for r, c in sorted(groups, key=lambda g: g[0].sequence)
        )

    # -------------------------------------------------- segments, campaigns
    def _segment(self, name, **vals):
        Segment = self.env["ds.segment"]
        segment = Segment.search(
            [("name", "=", name), ("company_id", "=", self.company.id)], limit=1
        )
        return segment or Segment.create(
            {"name": name, "company_id": self.company.id, **vals}
        )

    def _segments_and_campaign(self):
        """RFM, the segments and a finished campaign: window = the last closed month, the
        target group's coupon orders in it posted while the month is still open."""
        env = self.env
        env["ds.partner.rfm"]._refresh_company(self.company, date_to=self.end_date)
        loyal = self._segment(
            "Loyal retail customers",
            partner_type="customer",
            f_score_min=3,
            description="Customers who buy often: the spring coupon campaign's audience.",
        )
        loyal.action_refresh()
        window = self.periods[-2]
        campaign = env["ds.campaign"].search(
            [("name", "=", "Spring coupon"), ("company_id", "=", self.company.id)],
            limit=1,
        ) or env["ds.campaign"].create(
            {
                "name": "Spring coupon",
                "company_id": self.company.id,
                "segment_id": loyal.id,
                "control_pct": 20.0,
                "seed": f"demo-{self.seed}",
                "date_start": window.date_from,
                "date_end": window.date_to,
                "cost": 500.0,
                "use_cuped": True,
            }
        )
        if campaign.state == "draft":
            campaign.action_assign()
            campaign.action_launch()
            self._campaign_orders(campaign, window)
        if campaign.state == "running":
            campaign.action_measure()
        self.finished_campaign = campaign
        self.summary.update(
            finished_campaign=f"{campaign.name}: {campaign.target_count} target / "
            f"{campaign.control_count} control, uplift {campaign.uplift_revenue_per_member:.2f} "
            f"per member (p={campaign.p_value:.3f})"
        )

    def _campaign_orders(self, campaign, window):
        """A third of the target group redeems the coupon (a three-month wellness pack):
        one posted invoice each, in the campaign's window."""
        env = self.env
        members = env["ds.campaign.member"].search(
            [("campaign_id", "=", campaign.id), ("group", "=", "target")], order="id"
        )
        rng = random.Random(self.seed + 200)
        buyers = [m.partner_id for m in members if rng.random() < 0.35][:300]
        product = self.gen.products[_load_generate().AUTOSHIP_PACK]  # wellness pack
        days = (window.date_to - window.date_from).days
        vals_list = []
        for partner in buyers:
            day = window.date_from + datetime.timedelta(days=rng.randint(0, days))
            vals_list.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "date": day,
                    "journal_id": self.gen.journal.id,
                    "invoice_line_ids": [
                        (0, 0, {"product_id": product.id, "quantity": 3, "tax_ids": [(5, 0, 0)]})
                    ],
                }
            )  # fmt: skip
        if vals_list:
            moves = env["account.move"].create(vals_list)
            moves.action_post()
        self.campaign_moves = moves if vals_list else env["account.move"]
        self.summary["campaign_orders"] = len(vals_list)

    def _running_campaign(self):
        env = self.env
        segments = (
            self._segment(
                "New recruits (90 days)",
                partner_type="distributor",
                new_recruit_days=90,
                description="Distributors enrolled in the last 90 days.",
            )
            | self._segment(
                "Active distributors",
                partner_type="distributor",
                activity="active",
                activity_periods=2,
            )
            | self._segment("Lapsing customers", partner_type="customer", r_score_max=2)
            | self.finished_campaign.segment_id
        )
        segments.action_refresh()
        current = self.periods[-1]
        recruits = segments[0]
        campaign = env["ds.campaign"].search(
            [("name", "=", "New recruit starter offer"), ("company_id", "=", self.company.id)],
            limit=1,
        ) or env["ds.campaign"].create(
            {
                "name": "New recruit starter offer",
                "company_id": self.company.id,
                "segment_id": recruits.id,
                "control_pct": 20.0,
                "seed": f"demo-{self.seed}-recruits",
                "date_start": current.date_from,
                "date_end": current.date_to + datetime.timedelta(days=30),
                "cost": 300.0,
            }
        )  # fmt: skip
        if campaign.state == "draft":
            campaign.action_assign()
        if campaign.state == "assigned":
            campaign.action_launch()
        self.running_campaign = campaign
        self.segments = segments
        self.summary["segments"] = ", ".join(
            f"{s.name} {s.member_count}" for s in segments
        )
        self.summary["running_campaign"] = (
            f"{campaign.name}: {campaign.target_count} target / {campaign.control_count} control"
        )

    # ------------------------------------------------------- decision models
    def _decision_models(self):
        """A first look at the running campaign (its always-valid verdict), the lifetime
        value model trained and scored, next best products computed."""
        from odoo.exceptions import UserError

        env = self.env
        self.running_campaign.action_measure()
        model = env["ds.clv.model"].search(
            [("company_id", "=", self.company.id)], limit=1
        ) or env["ds.clv.model"].create(
            # the demo has months, not years, of history: a short held-out check
            {"name": "Lifetime value", "company_id": self.company.id, "holdout_days": 45}
        )  # fmt: skip
        try:
            with env.cr.savepoint():
                model._train()
            self.summary["lifetime_value"] = (
                f"{model.sample_size} partners scored, held-out error "
                f"{model.calibration_error_pct:.1f}%"
            )
        except UserError as exc:
            self.log(f"  lifetime value model not trained: {exc}")
        env["ds.partner.recommendation"]._compute_company(self.company)
        self.summary["next_best_products"] = env[
            "ds.partner.recommendation"
        ].search_count([("company_id", "=", self.company.id)])

    # ----------------------------------------------------- commerce, training
    def _has_portal(self):
        """Autoship payment, the shop and training come with crm_direct_selling_portal."""
        return "ds_onboarding_channel_ids" in self.env["res.company"]._fields

    def _rank_prices(self):
        """A pricelist per rank above the first (5 % off more per rank, 25 % at most),
        applied to each distributor's contact when the periods close below."""
        Pricelist = self.env["product.pricelist"]
        for step, rank in enumerate(self._ranks()[1:], start=1):
            if rank.pricelist_id:
                continue
            name = f"{rank.name} prices"
            rank.pricelist_id = Pricelist.search(
                [("name", "=", name), ("company_id", "in", [self.company.id, False])],
                limit=1,
            ) or Pricelist.create(
                {
                    "name": name,
                    "company_id": self.company.id,
                    "item_ids": [
                        (
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "percentage",
                                "percent_price": min(5.0 * step, 25.0),
                            },
                        )
                    ],
                }
            )

    def _autoships(self):
        """Forty distributors on autoship (two products each, monthly, paid with a saved
        demo-provider card): the ten due today ordered, invoiced and paid by the autoship
        job, the others due over the next four weeks; one paused, one cancelled."""
        env = self.env
        Autoship = env["ds.autoship"]
        if not self._has_portal() or Autoship.search_count(
            [("company_id", "=", self.company.id)]
        ):
            return
        Provider = env["payment.provider"].sudo()
        provider = Provider.search(
            [("code", "=", "demo"), ("company_id", "=", self.company.id)], limit=1
        ) or env.ref("payment.payment_provider_demo").sudo().copy(
            {"company_id": self.company.id}
        )
        provider.write({"state": "test", "is_published": True})
        method = env.ref("payment_demo.payment_method_demo")
        products = env["product.product"].search(
            [("ds_pv", ">", 0), ("sale_ok", "=", True)], limit=12, order="id"
        )
        distributors = env["ds.distributor"].search(
            [("company_id", "=", self.company.id), ("state", "=", "active")], order="id"
        )
        if not products or len(distributors) < 40:
            return
        chosen = self.rng.sample(list(distributors), 40)
        tokens = env["payment.token"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "partner_id": d.partner_id.id,
                    "payment_details": "4242",
                    "provider_ref": f"demo-autoship-{d.partner_id.id}",
                    "demo_simulated_state": "done",
                }
                for d in chosen
            ]
        )
        today = self.end_date
        autoships = Autoship.create(
            [
                {
                    "partner_id": d.partner_id.id,
                    "payment_token_id": token.id,
                    "next_date": today
                    if i < 10
                    else today + datetime.timedelta(days=1 + i % 28),
                    "line_ids": [
                        (0, 0, {"product_id": p.id, "quantity": 1 + i % 2})
                        for p in self.rng.sample(list(products), min(2, len(products)))
                    ],
                }
                for i, (d, token) in enumerate(zip(chosen, tokens, strict=True))
            ]
        )
        stats = Autoship._cron_process_due(today=today, autoships=autoships[:10])
        autoships[-2].action_pause()
        autoships[-1].action_cancel()
        self.summary["autoships"] = (
            f"{len(autoships)} autoships, {stats['done']} ordered today, 1 paused, "
            "1 cancelled"
        )

    def _training(self):
        """An onboarding course every distributor attends (some part way through), and a
        course for Silver and above."""
        env = self.env
        if not self._has_portal():
            return
        Channel = env["slide.channel"]
        name = "Start here: your first 30 days"
        onboarding = Channel.search([("name", "=", name)], limit=1)
        if onboarding:
            return
        lessons = (
            "Welcome to the team",
            "Your first customers",
            "Ordering and autoship",
            "Your first recruit",
        )
        onboarding = Channel.create(
            {
                "name": name,
                "description": "What every new distributor does in the first month.",
                "channel_type": "training",
                "enroll": "public",
                "visibility": "public",
                "is_published": True,
                "slide_ids": [
                    (
                        0,
                        0,
                        {
                            "name": title,
                            "slide_category": "article",
                            "html_content": f"<p>{title}.</p>",
                            "is_published": True,
                        },
                    )
                    for title in lessons
                ],
            }
        )
        silver = self._ranks().filtered(lambda r: r.name == "Silver")[:1]
        Channel.create(
            {
                "name": "Leading a team",
                "description": "Coaching, team calls and rank advancement.",
                "channel_type": "training",
                "enroll": "public",
                "visibility": "public",
                "is_published": True,
                "ds_min_rank_id": silver.id,
                "slide_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Coaching your frontline",
                            "slide_category": "article",
                            "html_content": "<p>Coaching your frontline.</p>",
                            "is_published": True,
                        },
                    )
                ],
            }
        )
        self.company.ds_onboarding_channel_ids = [(4, onboarding.id)]
        distributors = env["ds.distributor"].search(
            [("company_id", "=", self.company.id)]
        )
        distributors._ds_join_onboarding()
        # a third of the network part way through, the leader done
        slides = onboarding.slide_ids.sorted("sequence")
        partners = [d.partner_id for d in distributors if self.rng.random() < 0.33]
        leader = getattr(self, "leader", None)
        progress = [(partner, self.rng.randint(1, len(slides))) for partner in partners]
        if leader:
            progress.append((leader.partner_id, len(slides)))
        env["slide.slide.partner"].create(
            [
                {
                    "slide_id": slide.id,
                    "channel_id": onboarding.id,
                    "partner_id": partner.id,
                    "completed": True,
                }
                for partner, done in dict(progress).items()
                for slide in slides[:done]
            ]
        )
        self.summary["training"] = (
            f"onboarding joined by {onboarding.members_count} distributors, "
            f"{len(dict(progress))} part way or done"
        )

    # --------------------------------------------------------------- leader
    def _leader(self):
        leader = choose_leader(self.env, min_downline=self.leader_min_downline)
        if not leader:
            self.log("  no distributor qualifies as the demo leader")
            return
        self.leader = leader
        ensure_leader_user(self.env, leader)
        self.summary.update(leader_info(self.env))

    # ---------------------------------------------------------------- leads
    def _leads(self):
        env = self.env
        Rule = env["ds.lead.routing.rule"]
        countries = env["res.country"].search(
            [("code", "in", ["US", "CA", "MX", "GB", "DE", "FR"])]
        )
        by_code = {c.code: c for c in countries}
        ranks = self._ranks()
        if not Rule.search_count([("company_id", "=", self.company.id)]):
            Rule.create(
                [
                    {
                        "name": "North America",
                        "sequence": 10,
                        "company_id": self.company.id,
                        "country_ids": [(6, 0, [by_code[c].id for c in ("US", "CA", "MX") if c in by_code])],
                        "min_rank_id": ranks[1:2].id,
                        "max_open_leads": 5,
                    },
                    {
                        "name": "Europe",
                        "sequence": 20,
                        "company_id": self.company.id,
                        "country_ids": [(6, 0, [by_code[c].id for c in ("GB", "DE", "FR") if c in by_code])],
                        "max_open_leads": 5,
                    },
                    {
                        "name": "Rest of the world",
                        "sequence": 90,
                        "company_id": self.company.id,
                        "max_open_leads": 10,
                    },
                ]
            )  # fmt: skip
        # customers of the leader's organisation first (routed to their referrer), then others
        gen = self.gen
        rng = random.Random(self.seed + 300)
        customers = env["res.partner"].browse(
            range(gen.customer_first, gen.customer_first + gen.n_customers)
        )
        leader = getattr(self, "leader", env["ds.distributor"])
        own = customers.filtered(lambda p: p.ds_referrer_id == leader)[:5]
        others = customers.browse(rng.sample(customers.ids, min(45, len(customers))))
        vals_list = []
        for partner in own | others:
            vals_list.append(
                {
                    "name": f"Interested in the business: {partner.name}",
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "contact_name": partner.name,
                    "email_from": partner.email,
                    "country_id": partner.country_id.id,
                    "city": partner.city,
                    "company_id": self.company.id,
                }
            )
        leads = env["crm.lead"].create(vals_list)  # routed on creation
        routed = leads.filtered("ds_distributor_id")
        self.summary["leads"] = f"{len(routed)} of {len(leads)} routed"
        if leader:
            self.summary["leader_leads"] = len(
                routed.filtered(lambda ld: ld.ds_distributor_id == leader)
            )

    def _lifecycle(self):
        """The shipped lifecycle rules (made for the main company; copied to another
        company the demo is built in), run once for the demo's last day."""
        Rule = self.env["ds.lifecycle.rule"].with_context(active_test=False)
        if not Rule.search_count([("company_id", "=", self.company.id)]):
            main = self.env.ref("base.main_company")
            for rule in Rule.search([("company_id", "=", main.id)]):
                rule.copy({"company_id": self.company.id, "name": rule.name})
        done = self.env["ds.lifecycle.rule"]._cron_lifecycle(today=self.end_date)
        self.summary["lifecycle_occasions"] = done


# ------------------------------------------------------------------- leader
def choose_leader(env, min_downline=200, company=None):
    """The demo leader: among the distributors with at least ``min_downline`` people below
    them (at most a third of the network, so not the company's own top accounts), the one paid as
    the highest rank in the last closed period, then the one paid most by posted runs.
    Falls back to the largest downline when nobody reaches ``min_downline``."""
    env = env(su=True)
    company = company or env.company
    env.flush_all()
    env.cr.execute(
        """
        WITH sizes AS (
            SELECT a.id, COUNT(*) - 1 AS downline
              FROM ds_distributor a
              JOIN ds_distributor b ON b.parent_path LIKE a.parent_path || '%%'
             WHERE a.company_id = %(company)s AND a.state = 'active'
               AND a.sponsor_id IS NOT NULL
             GROUP BY a.id
        ), paid AS (
            SELECT l.distributor_id, SUM(l.amount) AS amount
              FROM ds_bonus_line l JOIN ds_bonus_run r ON r.id = l.run_id
             WHERE r.state = 'posted' AND NOT l.carried_forward AND r.company_id = %(company)s
             GROUP BY l.distributor_id
        ), total AS (
            SELECT COUNT(*) AS n FROM ds_distributor WHERE company_id = %(company)s
        )
        SELECT s.id
          FROM sizes s
          JOIN ds_distributor d ON d.id = s.id
     LEFT JOIN ds_rank r ON r.id = d.rank_id
     LEFT JOIN paid p ON p.distributor_id = s.id
         CROSS JOIN total t
         ORDER BY (s.downline >= %(min)s AND s.downline <= t.n / 3) DESC,
                  (p.amount > 0) IS TRUE DESC,
                  COALESCE(r.sequence, 0) DESC, COALESCE(p.amount, 0) DESC,
                  s.downline DESC, s.id
         LIMIT 1
        """,
        {"company": company.id, "min": min_downline},
    )
    row = env.cr.fetchone()
    return env["ds.distributor"].browse(row[0]) if row else env["ds.distributor"]


def ensure_leader_user(env, distributor):
    """Portal login ``leader@example.com`` / ``leader`` on the distributor's contact."""
    env = env(su=True)
    Users = env["res.users"].with_context(active_test=False, no_reset_password=True)
    user = Users.search([("login", "=", LEADER_LOGIN)], limit=1)
    if user:
        return user
    return Users.create(
        {
            "partner_id": distributor.partner_id.id,
            "login": LEADER_LOGIN,
            "password": LEADER_PASSWORD,
            "groups_id": [(6, 0, [env.ref("base.group_portal").id])],
        }
    )


def leader_info(env):
    """What ./setup/run prints about the leader (empty when there is no leader login)."""
    env = env(su=True)
    user = (
        env["res.users"]
        .with_context(active_test=False)
        .search([("login", "=", LEADER_LOGIN)], limit=1)
    )
    distributor = user.partner_id.ds_distributor_id if user else None
    if not distributor:
        return {}
    lines = env["ds.bonus.line"].search(
        [
            ("distributor_id", "=", distributor.id),
            ("run_id.state", "=", "posted"),
            ("carried_forward", "=", False),
        ]
    )
    return {
        "leader_login": LEADER_LOGIN,
        "leader_name": distributor.name,
        "leader_code": distributor.code,
        "leader_rank": distributor.rank_id.name or "",
        "leader_downline": len(distributor.get_downline()),
        "leader_bonuses": round(sum(lines.mapped("amount")), 2),
    }


def print_summary(summary, log=_log):
    log("Demo summary:")
    for key, value in summary.items():
        if key == "seconds":
            continue
        if isinstance(value, float):
            value = f"{value:,.2f}"
        log(f"  {key.replace('_', ' ')}: {value}")


# ---------------------------------------------------------------------- CLI
def parse_args(argv):
    p = argparse.ArgumentParser(prog="setup/demo", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--db", required=True, help="database with the three addons installed"
    )
    p.add_argument("--config", "-c", help="Odoo configuration file")
    p.add_argument("--distributors", type=int, default=3000)
    p.add_argument("--months", type=int, default=6)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=datetime.date.fromisoformat, help="default today")
    p.add_argument("--leader-min-downline", type=int, default=200)
    p.add_argument(
        "--leader-only",
        action="store_true",
        help="only make sure the leader login exists (choose and create it if missing)",
    )
    p.add_argument(
        "--logins-file",
        help="write the leader's login line to this file (for setup/run)",
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with _load_generate().superuser_env(args.db, args.config) as env:
        if args.leader_only:
            if not leader_info(env):
                leader = choose_leader(env, min_downline=args.leader_min_downline)
                if leader:
                    ensure_leader_user(env, leader)
            summary = leader_info(env)
        else:
            builder = DemoBuilder(
                env,
                distributors=args.distributors,
                months=args.months,
                seed=args.seed,
                end_date=args.end_date,
                leader_min_downline=args.leader_min_downline,
            )
            summary = builder.run()
            # admin / admin (Odoo's default, printed by setup/run)
            env.ref("base.user_admin").password = "admin"
            print_summary(summary)
        env.cr.commit()
    if args.logins_file and summary.get("leader_login"):
        Path(args.logins_file).write_text(leader_line(summary) + "\n")
    return 0


def leader_line(s):
    return (
        f"leader (portal): {s['leader_login']} / {LEADER_PASSWORD}  ({s['leader_name']}, "
        f"{s['leader_code']}, paid as {s['leader_rank'] or 'no rank'}, "
        f"{s['leader_downline']} in the downline, {s['leader_bonuses']:,.2f} in posted bonuses)"
    )


if __name__ == "__main__":
    sys.exit(main())
