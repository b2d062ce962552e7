import io
import json
from datetime import date
from urllib.parse import quote

import openpyxl

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL
from odoo.tools.pdf import PdfFileReader

from .bonus_common import BonusCommon

REPORT = "crm_direct_selling.action_report_ds_bonus_statement"
REPORT_NAME = "crm_direct_selling.report_ds_bonus_statement"


def pdf_pages_text(pdf):
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    texts = []
    for page in reader.pages:
        extract = getattr(page, "extract_text", None) or page.extractText
        texts.append(extract())
    return texts


@tagged("post_install", "-at_install")
class TestBonusStatement(BonusCommon, HttpCase):
    """The earner's statement: a summary of one or two pages whatever the number of lines,
    totals equal to the lines and the bill to the cent, header and footer rendered by the
    wkhtmltopdf setup installs, and every line as XLSX through the back office buttons.

    Network: P <- Q <- R, S; T (recruited in January) under R; U under P buys little."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "email": "payouts@statement.example",
                "phone": "+1 555 0100",
                "report_footer": "Registered office: 1 Statement Street",
            }
        )
        cls.p = cls._distributor("Paula Top")
        cls.q = cls._distributor("Quentin", cls.p)
        cls.r = cls._distributor("Rosa", cls.q)
        cls.s = cls._distributor("Sven", cls.q)
        cls.t = cls._distributor("Tina New", cls.r, enrolled=date(2026, 1, 5))
        cls.u = cls._distributor("Ugo Small", cls.p)
        for dist, bv in ((cls.p, 300), (cls.q, 250), (cls.r, 200), (cls.s, 150),
                         (cls.t, 400), (cls.u, 50)):  # fmt: skip
            cls._invoice(dist.partner_id, bv, date(2026, 1, 12))
        cls.plan = cls._plan()
        cls.user = new_test_user(
            cls.env,
            login="stmt_user",
            groups="base.group_user,crm_direct_selling.group_ds_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _posted(self, period, plan=None):
        period.action_close()
        run = self._run(period, plan or self.plan)
        run.action_compute()
        run.action_approve()
        run.action_post()
        return run

    def _line_sums(self, run):
        """{earner id: (sum of all lines, sum of the paid lines, sum of the carried lines,
        {bonus type: sum})} straight from the lines table."""
        rows = self.env.execute_query(
            SQL(
                """SELECT distributor_id, bonus_type, carried_forward, SUM(amount)
                   FROM ds_bonus_line WHERE run_id = %s GROUP BY 1, 2, 3""",
                run.id,
            )
        )
        sums = {}
        for did, btype, carried, amount in rows:
            total, paid, out, types = sums.get(did, (0.0, 0.0, 0.0, {}))
            amount = float(amount)
            types[btype] = types.get(btype, 0.0) + amount
            sums[did] = (
                total + amount,
                paid + (0 if carried else amount),
                out + (amount if carried else 0),
                types,
            )
        return sums

    def test_totals_match_lines_and_bill(self):
        run = self._posted(self.jan)
        summaries = run.get_statement_summaries()
        sums = self._line_sums(run)
        self.assertEqual(
            {st["distributor"].id for st in summaries}, set(sums), "one per earner"
        )
        cur = run.currency_id
        bills = 0
        carried = 0
        for st in summaries:
            total, paid, out, types = sums[st["distributor"].id]
            name = st["distributor"].name
            self.assertEqual(st["total"], cur.round(total), name)
            self.assertEqual(st["paid"], cur.round(paid), name)
            self.assertEqual(st["carried_out"], cur.round(out), name)
            self.assertEqual(
                {t[0]: t[3] for t in st["types"]},
                {k: cur.round(v) for k, v in types.items()},
                name,
            )
            self.assertEqual(
                cur.round(sum(t[3] for t in st["types"])), st["total"], name
            )
            self.assertEqual(sum(t[2] for t in st["types"]), st["line_count"], name)
            for btype, levels in st["levels"].items():
                self.assertEqual(
                    cur.round(sum(lv[3] for lv in levels)),
                    cur.round(types[btype]),
                    name,
                )
            bill = run.move_ids.filtered(
                lambda m, st=st: m.partner_id == st["distributor"].partner_id
            )
            if st["paid"]:
                bills += 1
                self.assertEqual(st["moves"].ids, bill.ids, name)
                self.assertEqual(cur.round(bill.amount_total), st["paid"], name)
                self.assertEqual(st["bill_total"], st["paid"], name)
                self.assertEqual(st["payment_state"], bill.payment_state, name)
            else:
                carried += 1
                self.assertFalse(bill, name)
                self.assertEqual(st["carried_out"], st["total"], name)
            volume = self.env["ds.volume"].search(
                [
                    ("distributor_id", "=", st["distributor"].id),
                    ("period_id", "=", self.jan.id),
                ]
            )
            self.assertEqual(st["volume"], volume, name)
        self.assertEqual(bills, len(run.move_ids))
        self.assertTrue(bills, "some earners are paid")
        # the statements add up to the run
        self.assertEqual(
            cur.round(sum(st["paid"] for st in summaries)),
            cur.round(sum(run.move_ids.mapped("amount_total"))),
        )
        self.assertEqual(
            cur.round(sum(st["paid"] for st in summaries)), run.total_amount
        )
        # February: what January carried forward comes back in
        for dist in (self.p, self.q, self.r, self.s, self.t, self.u):
            self._invoice(dist.partner_id, 100, date(2026, 2, 12))
        feb = self._posted(self.feb)
        feb_summaries = {st["distributor"]: st for st in feb.get_statement_summaries()}
        jan_out = {st["distributor"]: st["carried_out"] for st in summaries}
        for dist, out in jan_out.items():
            if out and dist in feb_summaries:
                self.assertEqual(feb_summaries[dist]["carry_in"], out, dist.name)
        if carried:
            self.assertTrue(any(st["carry_in"] for st in feb_summaries.values()))
        # the report shows the same figures
        top = max(summaries, key=lambda st: st["paid"])
        html, _fmt = self.env["ir.actions.report"]._render_qweb_html(
            REPORT, run.ids, data={"distributor_ids": [top["distributor"].id]}
        )
        html = html.decode()
        self.assertIn(top["distributor"].code, html)
        self.assertIn(f"{top['paid']:,.2f}", html)
        self.assertIn(run.move_ids.filtered(
            lambda m: m.partner_id == top["distributor"].partner_id).name, html)  # fmt: skip
        self.assertNotIn(self.u.name, html)

    def _big_run(self, n_lines=4000):
        """A posted February run in which Paula has ``n_lines`` unilevel lines (levels 1-3,
        written in SQL as the run writes them) and a retail line: the top earner."""
        self.feb.action_close()
        run = self._run(self.feb, self._levels_plan("Big", [10.0, 5.0, 5.0]))
        sources = (self.q | self.r | self.s | self.t | self.u).ids
        self.env.cr.execute(
            SQL(
                """INSERT INTO ds_bonus_line (run_id, distributor_id, bonus_type,
                       source_distributor_id, level, base, rate, amount, carried_forward,
                       company_id)
                   SELECT %(run)s, %(earner)s, 'unilevel', (%(sources)s::int[])[1 + mod(i, 5)],
                          1 + mod(i, 3), 10 + mod(i, 97), 5, ROUND((10 + mod(i, 97)) * 0.05, 2), FALSE,
                          %(company)s
                   FROM generate_series(1, %(n)s) i
                   UNION ALL
                   SELECT %(run)s, %(earner)s, 'retail', NULL, 0, 123.45, 10, 12.35, FALSE,
                          %(company)s""",
                run=run.id,
                earner=self.p.id,
                sources=sources,
                n=n_lines,
                company=self.company.id,
            )
        )
        run.sudo().write({"state": "computed"})
        run.action_approve()
        run.action_post()
        return run

    def test_top_earner_pdf_is_short_with_header_and_footer(self):
        """4,000 lines: the PDF (rendered by wkhtmltopdf, the one setup installs) stays
        within two pages and 300 KB, and its text holds the company header, the footer and
        the totals; they equal the lines and the bill."""
        run = self._big_run()
        bill = run.move_ids
        self.assertEqual(len(bill), 1)
        st = run.get_statement_summaries([self.p.id])[0]
        self.assertEqual(st["line_count"], 4001)
        lines_total = self.env.execute_query(
            SQL(
                "SELECT SUM(amount) FROM ds_bonus_line WHERE run_id = %s AND distributor_id = %s",
                run.id,
                self.p.id,
            )
        )[0][0]
        self.assertEqual(st["paid"], float(lines_total))
        self.assertEqual(st["paid"], bill.amount_total)
        self.assertEqual(
            [(lv[0], lv[1]) for lv in st["levels"]["unilevel"]],
            [(1, 1333), (2, 1334), (3, 1333)],
        )
        pdf, fmt = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(REPORT, run.ids, data={"distributor_ids": [self.p.id]})
        )
        self.assertEqual(fmt, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        pages = pdf_pages_text(pdf)
        self.assertLessEqual(len(pages), 2, "the statement is a summary")
        self.assertLess(len(pdf), 1024 * 1024)
        text = "\n".join(pages)
        flat = " ".join(text.split())
        # company header (top of the first page) and footer (end of the statement)
        self.assertIn(self.company.name, pages[0])
        self.assertIn("payouts@statement.example", flat)
        self.assertIn("Registered office: 1 Statement Street", flat)
        self.assertIn(self.p.code, flat)
        self.assertIn(f"{bill.amount_total:,.2f}", flat)
        self.assertIn(bill.name, flat)

    def _call(self, model, method, args, kwargs=None, route="call_kw"):
        url = (
            f"/web/dataset/call_kw/{model}/{method}"
            if route == "call_kw"
            else "/web/dataset/call_button"
        )
        response = self.url_open(
            url,
            data=json.dumps(
                {
                    "params": {
                        "model": model,
                        "method": method,
                        "args": args,
                        "kwargs": kwargs or {},
                    }
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        return response.json()

    def test_back_office_downloads_over_http(self):
        """The run's Statement button, then the wizard's buttons as the web client presses
        them: the XLSX holds every line of the earner; the PDF comes from /report/pdf."""
        run = self._big_run(n_lines=1500)
        self.authenticate("stmt_user", "stmt_user")
        action = self._call(
            "ds.bonus.run", "action_open_statement", [run.ids], route="call_button"
        )["result"]
        self.assertEqual(action["res_model"], "ds.bonus.statement")
        wizard_id = self._call(
            "ds.bonus.statement",
            "create",
            [{"run_id": run.id, "distributor_id": self.p.id}],
            {"context": action["context"]},
        )["result"]
        action = self._call(
            "ds.bonus.statement",
            "action_export_xlsx",
            [[wizard_id]],
            route="call_button",
        )["result"]
        self.assertEqual(action["type"], "ir.actions.act_url")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        wb = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        self.assertEqual(wb.sheetnames, ["Statement", "Lines"])
        rows = list(wb["Lines"].iter_rows(values_only=True))
        self.assertEqual(rows[0][:3], ("Bonus type", "Source code", "Source"))
        self.assertEqual(len(rows) - 1, 1501)
        self.assertEqual(
            round(sum(r[6] for r in rows[1:]), 2), run.move_ids.amount_total
        )
        self.assertEqual({r[8] for r in rows[1:]}, {run.move_ids.name})
        # the summary through the report route the client opens for the action (in test
        # mode the route answers the HTML that wkhtmltopdf would print; forcing the PDF here
        # would have wkhtmltopdf fetch the stylesheets from this test server while the
        # request holds the test cursor: the PDF itself is checked in the test above)
        action = self._call(
            "ds.bonus.statement", "action_print", [[wizard_id]], route="call_button"
        )["result"]
        self.assertEqual(action["data"], {"distributor_ids": [self.p.id]})
        url = "/report/pdf/{}/{}?options={}".format(
            action["report_name"], run.id, quote(json.dumps(action["data"]))
        )
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.p.code, response.text)
        self.assertIn(f"{run.move_ids.amount_total:,.2f}", response.text)
        self.assertLess(len(response.content), 200 * 1024)
        # an earner without lines: a clear refusal naming them
        wizard_id = self._call(
            "ds.bonus.statement",
            "create",
            [{"run_id": run.id, "distributor_id": self.u.id}],
        )["result"]
        error = self._call(
            "ds.bonus.statement",
            "action_export_xlsx",
            [[wizard_id]],
            route="call_button",
        )["error"]
        self.assertIn("Ugo Small", error["data"]["message"])

    def test_statement_refused_without_group(self):
        run = self._big_run(n_lines=10)
        new_test_user(self.env, login="stmt_plain", groups="base.group_user",
                      company_id=self.company.id,
                      company_ids=[Command.set(self.company.ids)])  # fmt: skip
        self.authenticate("stmt_plain", "stmt_plain")
        for method, args in (
            ("action_open_statement", [run.ids]),
            ("get_statement_summaries", [run.ids]),
        ):
            error = self._call("ds.bonus.run", method, args, route="call_button")[
                "error"
            ]
            self.assertIn(
                error["data"]["name"],
                ("odoo.exceptions.AccessError", "odoo.exceptions.UserError"),
                method,
            )
