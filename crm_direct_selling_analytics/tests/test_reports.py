import io
import math
import random
import statistics
from datetime import date, timedelta

from openpyxl import load_workbook

from odoo.tests import tagged

from .common import DsAnalyticsCommon

CENT = 0.005 + 1e-9


def sheet_rows(data):
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@tagged("post_install", "-at_install")
class TestDecisionReports(DsAnalyticsCommon):
    """Every report on small hand-checked data, and its XLSX export re-opened with openpyxl."""

    def _days_ago(self, n):
        return date.today() - timedelta(days=n)

    def test_pareto_classes_top20_gini_and_xlsx(self):
        partners = [self._customer(f"Par{i}") for i in range(5)]
        for partner, amount in zip(
            partners, (500.0, 300.0, 100.0, 60.0, 40.0), strict=True
        ):
            self._invoice(partner, self._days_ago(10), amount)
        self._invoice(partners[0], self._days_ago(400), 10000.0)  # outside the window
        rows = self.env["ds.report.pareto"].search([])
        by_partner = {r.partner_id: r for r in rows}
        self.assertEqual(len(rows), 5)
        self.assertEqual(
            [by_partner[p].abc_class for p in partners], ["A", "A", "B", "B", "C"]
        )
        self.assertEqual(
            [by_partner[p].rank_position for p in partners], [1, 2, 3, 4, 5]
        )
        self.assertEqual([p for p in partners if by_partner[p].top20], [partners[0]])
        self.assertAlmostEqual(by_partner[partners[1]].cumulative_share, 80.0)
        summary = self.env["ds.report.pareto"].get_summary()
        self.assertAlmostEqual(summary["top20_share"], 50.0)
        self.assertAlmostEqual(summary["gini"], 0.464, places=6)
        self.assertEqual(
            (summary["class_a"], summary["class_b"], summary["class_c"]), (2, 2, 1)
        )
        data = sheet_rows(self.env["ds.report.pareto"]._xlsx_export())
        labels = {r[0]: r[1] for r in data if r and r[0]}
        self.assertAlmostEqual(labels["Gini coefficient"], 0.464, places=4)
        self.assertAlmostEqual(labels["Revenue share of the top 20% (%)"], 50.0)
        header_idx = next(i for i, r in enumerate(data) if r and r[0] == "Rank")
        table = data[header_idx + 1 :]
        self.assertEqual([r[1] for r in table], [p.display_name for p in partners])
        self.assertEqual([r[3] for r in table], [500.0, 300.0, 100.0, 60.0, 40.0])
        self.assertEqual(
            [r[7] for r in table],
            [
                "A (first 80%)",
                "A (first 80%)",
                "B (next 15%)",
                "B (next 15%)",
                "C (last 5%)",
            ],
        )

    def test_churn_rhythm_and_reason(self):
        x, y, z, w = (
            self._customer(n) for n in ("ChurnX", "ChurnY", "ChurnZ", "ChurnW")
        )
        for n in (100, 70, 40):
            self._invoice(x, self._days_ago(n), 10.0)
        for n in (200, 190, 180):
            self._invoice(y, self._days_ago(n), 10.0)
        self._invoice(z, self._days_ago(15), 10.0)
        for n in (95, 65, 45):
            self._invoice(w, self._days_ago(n), 10.0)
        rows = {r.partner_id: r for r in self.env["ds.report.churn"].search([])}
        self.assertEqual(
            (rows[x].risk, rows[x].median_interval, rows[x].days_since),
            ("low", 30.0, 40),
        )
        self.assertEqual(
            (rows[y].risk, rows[y].median_interval, rows[y].days_since),
            ("high", 10.0, 180),
        )
        self.assertEqual(rows[z].risk, "unknown")
        self.assertEqual((rows[w].risk, rows[w].median_interval), ("medium", 25.0))
        self.assertAlmostEqual(rows[w].overdue_ratio, 45 / 25)
        self.assertIn("usually buys every 25.0 days", rows[w].reason)
        self.assertIn("No purchase for 180 days", rows[y].reason)
        self.assertIn("only once", rows[z].reason)
        data = sheet_rows(self.env["ds.report.churn"]._xlsx_export())
        table = {r[0]: r for r in data[1:]}
        self.assertEqual(table[y.display_name][3], 180)
        self.assertEqual(table[y.display_name][7], "High")
        self.assertEqual(table[y.display_name][8], rows[y].reason)

    def test_cohort_value_retention(self):
        d1 = self._distributor("Coh1", enrollment_date=date(2026, 1, 15))
        d2 = self._distributor("Coh2", enrollment_date=date(2026, 1, 20))
        self._invoice(d1.partner_id, date(2026, 1, 20), 100.0)
        self._invoice(d1.partner_id, date(2026, 2, 20), 50.0)
        self._invoice(d1.partner_id, date(2026, 3, 20), 25.0)
        self._invoice(d2.partner_id, date(2026, 1, 25), 100.0)
        self._invoice(d2.partner_id, date(2026, 3, 5), 75.0)
        k = self._customer("CohK")
        self._invoice(k, date(2026, 2, 10), 100.0)
        self._invoice(k, date(2026, 4, 1), 30.0)
        rows = self.env["ds.report.cohort"].search(
            [("is_distributor", "=", True), ("cohort_month", "=", "2026-01-01")]
        )
        got = {
            r.month_offset: (
                r.cohort_size,
                r.active_count,
                r.revenue,
                r.value_retention,
                r.active_rate,
            )
            for r in rows
        }
        self.assertEqual(
            got,
            {
                0: (2, 2, 200.0, 100.0, 100.0),
                1: (2, 1, 50.0, 25.0, 50.0),
                2: (2, 2, 100.0, 50.0, 100.0),
            },
        )
        rows = self.env["ds.report.cohort"].search(
            [("is_distributor", "=", False), ("cohort_month", "=", "2026-02-01")]
        )
        self.assertEqual(
            {r.month_offset: r.value_retention for r in rows}, {0: 100.0, 2: 30.0}
        )
        data = sheet_rows(self.env["ds.report.cohort"]._xlsx_export())
        self.assertEqual(data[0][2], "Months Since Start")
        xl = [r for r in data[1:] if r[0] is True and r[1] is not None and r[2] == 1]
        self.assertEqual(xl[0][6], 50.0)
        self.assertEqual(xl[0][7], 25.0)

    def test_campaign_response_by_campaign_and_segment(self):
        customers = self.env["res.partner"]
        for i in range(10):
            customers |= self._customer(f"Resp{i}")
        segment = self._segment_of(customers, "Resp segment")
        campaign = self.env["ds.campaign"].create(
            {
                "name": "Resp",
                "segment_id": segment.id,
                "seed": "resp",
                "control_pct": 50.0,
                "date_start": "2026-03-01",
                "date_end": "2026-03-31",
                "min_group_size": 2,
            }
        )
        campaign.action_assign()
        campaign.action_launch()
        target = campaign.member_ids.filtered(lambda m: m.group == "target").partner_id
        control = campaign.member_ids.filtered(
            lambda m: m.group == "control"
        ).partner_id
        self._invoice(target[0], date(2026, 3, 5), 100.0)
        self._invoice(target[1], date(2026, 3, 6), 60.0)
        self._invoice(target[1], date(2026, 4, 6), 999.0)  # after the window
        self._invoice(control[0], date(2026, 3, 7), 40.0)
        campaign.action_measure()
        groups = self.env["ds.report.campaign.response"]._read_group(
            [("campaign_id", "=", campaign.id)],
            ["group", "segment_id"],
            [
                "member_count:sum",
                "responders:sum",
                "revenue:sum",
                "response_rate:avg",
                "revenue_per_member:avg",
            ],
        )
        got = {
            g: (seg, n, r, rev, rate, rpm) for g, seg, n, r, rev, rate, rpm in groups
        }
        self.assertIn("target", got)
        nt, nc = len(target), len(control)
        self.assertEqual(got["target"][:4], (segment, nt, 2, 160.0))
        self.assertAlmostEqual(got["target"][4], 200.0 / nt)
        self.assertAlmostEqual(got["target"][5], 160.0 / nt)
        self.assertEqual(got["control"][:4], (segment, nc, 1, 40.0))
        self.assertAlmostEqual(campaign.revenue_per_member_target, 160.0 / nt)
        data = sheet_rows(self.env["ds.report.campaign.response"]._xlsx_export())
        xl = {r[2]: r for r in data[1:] if r[0] == campaign.display_name}
        self.assertEqual(xl["Target"][3:5], [nt, 2])
        self.assertEqual(xl["Target"][6], 160.0)
        self.assertAlmostEqual(xl["Control"][7], 40.0 / nc, places=4)

    def test_income_disclosure(self):
        Period = self.env["ds.period"]
        p1 = Period.create(
            {"name": "2026-01", "date_from": "2026-01-01", "date_to": "2026-01-31"}
        )
        p2 = Period.create(
            {"name": "2026-02", "date_from": "2026-02-01", "date_to": "2026-02-28"}
        )
        d = [self._distributor(f"Inc{i}") for i in range(5)]
        r1, r2 = self.rank_1, self.rank_2
        Volume = self.env["ds.volume"]
        for dist, rank in zip(d, (r1, r1, r1, r2, r2), strict=True):
            Volume.create(
                {
                    "distributor_id": dist.id,
                    "period_id": p1.id,
                    "paid_rank_id": rank.id,
                    "company_id": self.company.id,
                }
            )
        for dist in (d[0], d[3]):
            Volume.create(
                {
                    "distributor_id": dist.id,
                    "period_id": p2.id,
                    "paid_rank_id": r2.id,
                    "company_id": self.company.id,
                }
            )
        plan = self.env["ds.plan"].create({"name": "Plan"})
        Run = self.env["ds.bonus.run"]
        run1 = Run.create({"period_id": p1.id, "plan_id": plan.id, "state": "posted"})
        run2 = Run.create({"period_id": p2.id, "plan_id": plan.id, "state": "posted"})
        sim = Run.create(
            {
                "period_id": p1.id,
                "plan_id": plan.id,
                "simulation": True,
                "state": "computed",
            }
        )
        cur = self.company.currency_id.id

        def line(run, dist, amount, **kw):
            return {
                "run_id": run.id,
                "distributor_id": dist.id,
                "bonus_type": "unilevel",
                "amount": amount,
                "currency_id": cur,
                "company_id": self.company.id,
                **kw,
            }

        self.env["ds.bonus.line"].create(
            [
                line(run1, d[0], 10.0),
                line(run1, d[1], 20.0),
                line(run1, d[1], 10.0),
                line(run1, d[3], 100.0),
                line(run1, d[4], 300.0),
                line(run1, d[4], 999.0, carried_forward=True),
                line(sim, d[0], 5000.0),
                line(run2, d[0], 50.0),
                line(run2, d[3], 50.0),
            ]
        )
        Report = self.env["ds.report.income"]
        Period_ = Report.with_context(ds_income_grain="period")
        row = Period_.search([("period_id", "=", p1.id), ("rank_id", "=", r1.id)])
        self.assertEqual(
            (row.distributor_count, row.earner_count, row.total_amount), (3, 2, 40.0)
        )
        self.assertEqual(
            (row.statement, row.year, row.grain), ("2026-01", "2026", "period")
        )
        self.assertEqual((row.date_from, row.date_to), (p1.date_from, p1.date_to))
        self.assertAlmostEqual(row.mean_amount, 13.33)
        self.assertEqual(
            (row.median_amount, row.p10_amount, row.p90_amount), (10.0, 2.0, 26.0)
        )
        self.assertEqual((row.min_amount, row.max_amount), (0.0, 30.0))
        # 3 of the period's 5 distributors at this rank, 2 of whom earned (of 4 earners)
        self.assertEqual(
            (row.distributor_pct, row.earner_pct, row.earner_share_pct),
            (60.0, 66.67, 50.0),
        )
        row = Period_.search([("period_id", "=", p1.id), ("rank_id", "=", r2.id)])
        self.assertEqual(
            (
                row.distributor_count,
                row.total_amount,
                row.median_amount,
                row.max_amount,
            ),
            (2, 400.0, 200.0, 300.0),
        )
        # default grain: the year; the year's rank is the highest paid-as rank in it
        year = {r.rank_id: r for r in Report.search([("year", "=", "2026")])}
        self.assertEqual(set(year), {r1, r2})
        self.assertEqual(year[r2].grain, "year")
        self.assertEqual(
            (year[r2].distributor_count, year[r2].total_amount, year[r2].median_amount),
            (3, 510.0, 150.0),
        )
        self.assertEqual(
            (year[r1].distributor_count, year[r1].total_amount, year[r1].median_amount),
            (2, 30.0, 15.0),
        )
        self.assertEqual(
            (year[r2].statement, year[r2].period_count, year[r2].date_to),
            ("2026", 2, p2.date_to),
        )
        data = sheet_rows(Report._xlsx_export())
        self.assertEqual(data[0][:2], ["Income Disclosure Statement", "by Year"])
        summary = dict(zip(data[1], data[2], strict=True))
        self.assertEqual(summary["Statement"], "2026")
        self.assertEqual((summary["Distributors"], summary["Earned Anything"]), (5, 4))
        self.assertEqual(summary["Total Earnings"], 540.0)
        # annual earnings of the five: 60, 30, 0, 150, 300
        self.assertEqual((summary["Mean"], summary["Median"]), (108.0, 60.0))
        self.assertEqual(summary["Earned Anything (%)"], 80.0)
        header = next(i for i, r in enumerate(data) if r[:1] == ["Statement"] and i > 1)
        self.assertEqual(
            data[header][:5],
            ["Statement", "From", "To", "Paid-as Rank", "Distributors"],
        )
        xl = [r for r in data[header + 1 :] if r[3] == r2.display_name]
        self.assertEqual(xl[0][0], "2026")
        self.assertEqual(xl[0][4], 3)
        self.assertEqual(xl[0][8:11], [510.0, 170.0, 150.0])

    def test_income_disclosure_totals_once(self):
        """Issue 13: the grand total counted every amount twice (period rows plus year
        rows) and the year read "2,026"."""
        Period = self.env["ds.period"]
        periods = [
            Period.create(
                {
                    "name": f"2025-{m:02d}",
                    "date_from": date(2025, m, 1),
                    "date_to": date(2025, m, 28),
                }
            )
            for m in (3, 4)
        ]
        d = [self._distributor(f"Tot{i}") for i in range(3)]
        plan = self.env["ds.plan"].create({"name": "Plan"})
        runs = self.env["ds.bonus.run"].create(
            [
                {"period_id": p.id, "plan_id": plan.id, "state": "posted"}
                for p in periods
            ]
        )
        amounts = [(runs[0], d[0], 12.34), (runs[0], d[1], 5.0), (runs[1], d[0], 7.66)]
        self.env["ds.bonus.line"].create(
            [
                {
                    "run_id": run.id,
                    "distributor_id": dist.id,
                    "bonus_type": "unilevel",
                    "amount": amount,
                    "company_id": self.company.id,
                }
                for run, dist, amount in amounts
            ]
        )
        expected = sum(a for __, __, a in amounts)
        domain = [("date_to", ">=", "2025-01-01"), ("date_to", "<=", "2025-12-31")]
        for grain in ("year", "period"):
            Report = self.env["ds.report.income"].with_context(ds_income_grain=grain)
            rows = Report.search(domain)
            self.assertEqual(set(rows.mapped("grain")), {grain})
            # as the list's total and a grouped pivot read them
            [(total,)] = Report._read_group(domain, [], ["total_amount:sum"])
            self.assertAlmostEqual(total, expected, places=2, msg=grain)
            groups = Report.read_group(domain, ["total_amount", "year"], ["statement"])
            self.assertAlmostEqual(
                sum(g["total_amount"] for g in groups), expected, places=2
            )
            self.assertNotIsInstance(
                groups[0].get("year"), (int, float), "a year is not summed"
            )
        yearly = self.env["ds.report.income"].search(domain)
        self.assertEqual(set(yearly.mapped("statement")), {"2025"})
        self.assertEqual(sum(yearly.mapped("distributor_count")), 2)
        # a year is text: no thousands separator in the list, the pivot or the export
        fields = self.env["ds.report.income"].fields_get(["year", "statement"])
        self.assertEqual(fields["year"]["type"], "char")
        self.assertEqual(fields["statement"]["type"], "char")

    def test_income_disclosure_mean_median_match_python(self):
        """Mean, median and percentiles (SQL percentile_cont) against an independent
        computation on generated earnings."""
        rng = random.Random(13)
        period = self.env["ds.period"].create(
            {"name": "2024-05", "date_from": "2024-05-01", "date_to": "2024-05-31"}
        )
        plan = self.env["ds.plan"].create({"name": "Plan"})
        run = self.env["ds.bonus.run"].create(
            {"period_id": period.id, "plan_id": plan.id, "state": "posted"}
        )
        ranks = (self.rank_1, self.rank_2)
        earnings = {rank: [] for rank in ranks}
        volumes, lines = [], []
        for i in range(41):
            dist = self._distributor(f"Gen{i}")
            rank = ranks[i % 2]
            volumes.append(
                {
                    "distributor_id": dist.id,
                    "period_id": period.id,
                    "paid_rank_id": rank.id,
                    "company_id": self.company.id,
                }
            )
            parts = [round(rng.uniform(0, 200), 2) for __ in range(rng.randint(0, 3))]
            earnings[rank].append(round(sum(parts), 2))
            lines += [
                {
                    "run_id": run.id,
                    "distributor_id": dist.id,
                    "bonus_type": "unilevel",
                    "amount": part,
                    "company_id": self.company.id,
                }
                for part in parts
            ]
        self.env["ds.volume"].create(volumes)
        self.env["ds.bonus.line"].create(lines)

        def percentile(values, q):  # PostgreSQL percentile_cont: linear interpolation
            values = sorted(values)
            pos = q * (len(values) - 1)
            low = math.floor(pos)
            high = min(low + 1, len(values) - 1)
            return values[low] + (values[high] - values[low]) * (pos - low)

        Report = self.env["ds.report.income"].with_context(ds_income_grain="period")
        for rank in ranks:
            values = earnings[rank]
            row = Report.search(
                [("period_id", "=", period.id), ("rank_id", "=", rank.id)]
            )
            self.assertEqual(row.distributor_count, len(values))
            self.assertEqual(row.earner_count, sum(1 for v in values if v > 0))
            self.assertAlmostEqual(row.total_amount, sum(values), places=2)
            # to the cent (rounded half away from zero in SQL, hence the delta)
            self.assertAlmostEqual(row.mean_amount, statistics.mean(values), delta=CENT)
            self.assertAlmostEqual(
                row.median_amount, statistics.median(values), delta=CENT
            )
            for q, fname in (
                (0.1, "p10_amount"),
                (0.25, "p25_amount"),
                (0.9, "p90_amount"),
            ):
                self.assertAlmostEqual(row[fname], percentile(values, q), delta=CENT)
            self.assertEqual(
                (row.min_amount, row.max_amount), (min(values), max(values))
            )
        every = earnings[self.rank_1] + earnings[self.rank_2]
        [summary] = Report._statement_summaries([str(period.id)])
        self.assertEqual(summary["distributor_count"], 41)
        self.assertAlmostEqual(
            float(summary["median_amount"]), statistics.median(every), delta=CENT
        )
        self.assertAlmostEqual(
            float(summary["mean_amount"]), statistics.mean(every), delta=CENT
        )

    def test_rfm_xlsx_export(self):
        a = self._customer("RfmX")
        self._invoice(a, self._days_ago(3), 123.45)
        self.env["ds.partner.rfm"]._refresh_company(self.company)
        data = sheet_rows(self.env["ds.partner.rfm"]._xlsx_export())
        row = [r for r in data[1:] if r[0] == a.display_name][0]
        self.assertEqual(
            row[2], "111", "a single buyer sits in the first NTILE of each score"
        )
        self.assertEqual(row[10], 123.45)
        action = self.env["ds.partner.rfm"].action_export_xlsx()
        self.assertEqual(action["type"], "ir.actions.act_url")
