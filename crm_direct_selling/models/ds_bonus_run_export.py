"""Exports of a bonus run: statements (PDF data, summaries), XLSX, comparison."""

import base64
import io

from odoo import Command, api, models
from odoo.tools import SQL

from .ds_access import ds_check_user
from .ds_bonus_line import BONUS_TYPES


class DsBonusRunExport(models.Model):
    _inherit = "ds.bonus.run"

    @api.private  # returns recordsets: a Python API (PDF statement, portal), not RPC
    def get_statement_data(self, distributor_ids=None):
        """Statement rows per earner: {distributor: [(type label, source, level, base,
        rate, amount, carried)]}, used by the PDF statement and the portal (as superuser,
        for the portal user's own lines only)."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        self.ensure_one()
        domain = [("run_id", "=", self.id)]
        if distributor_ids:
            domain.append(("distributor_id", "in", list(distributor_ids)))
        lines = self.env["ds.bonus.line"].search(domain)
        result = {}
        for line in lines:
            result.setdefault(line.distributor_id, self.env["ds.bonus.line"])
            result[line.distributor_id] |= line
        return result

    # ------------------------------------------------------------------ statements
    @api.private  # returns recordsets: a Python API (PDF statement, portal), not RPC
    def get_statement_summaries(self, distributor_ids=None):
        """One summary per (run, earner) of these runs, optionally only ``distributor_ids``:
        the figures of the one- or two-page statement, all from grouped queries (a top
        earner's hundreds of thousands of lines are never read one by one).

        Each summary is a dict: ``run``, ``distributor``, ``volume`` (ds.volume of the
        period or empty), ``types`` [(bonus_type, label, line count, amount)], ``levels``
        {bonus_type: [(level, line count, base, amount)]} (unilevel levels, matching
        generations), ``line_count``, ``carry_in`` (carry_forward lines), ``total`` (sum of
        all the earner's lines), ``carried_out`` (total carried to the next run when the
        earner is not paid), ``paid`` (sum of the paid lines: the bill's amount), ``moves``
        (the payout entries), ``bill_total`` (their total for this earner) and
        ``payment_state`` (of a vendor bill, else False)."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        Line = self.env["ds.bonus.line"]
        domain = [("run_id", "in", self.ids)]
        if distributor_ids is not None:
            domain.append(("distributor_id", "in", list(distributor_ids)))
        groups = Line._read_group(
            domain,
            ["run_id", "distributor_id", "bonus_type", "level", "move_id"],
            ["__count", "base:sum", "amount:sum", "carried_forward:bool_or"],
            order="run_id, distributor_id",
        )
        labels = self._type_labels()
        order = {btype: i for i, (btype, _label) in enumerate(BONUS_TYPES)}
        summaries = {}
        for run, dist, btype, level, move, count, base, amount, carried in groups:
            cur = run.currency_id
            st = summaries.get((run.id, dist.id))
            if st is None:
                st = summaries[run.id, dist.id] = {
                    "run": run,
                    "distributor": dist,
                    "types": {},
                    "levels": {},
                    "line_count": 0,
                    "carry_in": 0.0,
                    "total": 0.0,
                    "carried_out": 0.0,
                    "paid": 0.0,
                    "moves": self.env["account.move"],
                }
            amount = float(amount or 0.0)
            st["line_count"] += count
            st["total"] += amount
            if carried:
                st["carried_out"] += amount
            else:
                st["paid"] += amount
            if move:
                st["moves"] |= move
            if btype == "carry_forward":
                st["carry_in"] += amount
            t_count, t_amount = st["types"].get(btype, (0, 0.0))
            st["types"][btype] = (t_count + count, t_amount + amount)
            if btype in ("unilevel", "matching"):
                per_level = st["levels"].setdefault(btype, {})
                l_count, l_base, l_amount = per_level.get(level, (0, 0.0, 0.0))
                per_level[level] = (
                    l_count + count,
                    l_base + float(base or 0.0),
                    l_amount + amount,
                )
            st["currency"] = cur
        # volumes of the period (PV, GV, legs, paid-as rank) of every earner at once
        volumes = {}
        for period, runs in self.grouped("period_id").items():
            earners = [d for (r, d) in summaries if r in runs.ids]
            for volume in self.env["ds.volume"].search(
                [("period_id", "=", period.id), ("distributor_id", "in", earners)]
            ):
                volumes[period.id, volume.distributor_id.id] = volume
        result = []
        for st in summaries.values():
            cur = st["currency"]
            for key in ("carry_in", "total", "carried_out", "paid"):
                st[key] = cur.round(st[key])
            st["types"] = [
                (btype, labels.get(btype, btype), count, cur.round(amount))
                for btype, (count, amount) in sorted(
                    st["types"].items(), key=lambda kv: order.get(kv[0], 99)
                )
            ]
            st["levels"] = {
                btype: [
                    (level, count, cur.round(base), cur.round(amount))
                    for level, (count, base, amount) in sorted(per_level.items())
                ]
                for btype, per_level in st["levels"].items()
            }
            st["volume"] = volumes.get(
                (st["run"].period_id.id, st["distributor"].id), self.env["ds.volume"]
            )
            # the earner's payout as the statement shows it (number, amount, payment status),
            # also to statement readers without accounting rights: the run was checked above
            moves = st["moves"] = st["moves"].sudo()
            bills = moves.filtered(lambda m: m.move_type == "in_invoice")
            if bills and bills == moves:
                st["bill_total"] = cur.round(sum(bills.mapped("amount_total")))
                st["payment_state"] = bills[:1].payment_state
            else:  # consolidated entry: the earner's payable line is the paid amount
                st["bill_total"] = st["paid"] if moves else 0.0
                st["payment_state"] = False
            result.append(st)
        return result

    def _statement_lines_query(self, distributor, after_id=0, limit=20000):
        """One page of an earner's lines for the XLSX detail, by id (keyset paging: a
        page reads the earner's rows through the (run_id, distributor_id) index)."""
        return SQL(
            """SELECT l.id, l.bonus_type, sd.code, sp.name, l.level, l.base, l.rate,
                      l.amount, l.carried_forward, m.name
               FROM ds_bonus_line l
               LEFT JOIN ds_distributor sd ON sd.id = l.source_distributor_id
               LEFT JOIN res_partner sp ON sp.id = sd.partner_id
               LEFT JOIN account_move m ON m.id = l.move_id
               WHERE l.run_id = %s AND l.distributor_id = %s AND l.id > %s
               ORDER BY l.id LIMIT %s""",
            self.id,
            distributor.id,
            after_id,
            limit,
        )

    def _statement_xlsx_bytes(self, distributor):
        """XLSX of one earner's statement: a summary sheet and every line (write-only
        workbook: rows go to a temporary file as they are read, a page of 20,000 rows at
        a time, so memory stays flat at hundreds of thousands of lines)."""
        self.ensure_one()
        ds_check_user(self.env, self.env._("export bonus statements"), self)
        import openpyxl  # external dependency declared in the manifest
        from openpyxl.styles import Font

        from ..tools.spreadsheet import append_row, xlsx_cell  # text cells, no formulas

        summaries = self.get_statement_summaries([distributor.id])
        st = summaries[0] if summaries else None
        _ = self.env._
        labels = self._type_labels()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(_("Statement"))
        bold = Font(bold=True)
        append_row(ws, [_("Company"), self.company_id.name])
        append_row(ws, [_("Run"), self.name])
        append_row(ws, [_("Period"), self.period_id.display_name])
        append_row(ws, [_("Earner code"), distributor.code])
        append_row(ws, [_("Earner"), distributor.name])
        if st:
            ws.append([xlsx_cell(ws, _("Bonus type"), bold), xlsx_cell(ws, _("Lines"), bold),
                       xlsx_cell(ws, _("Amount"), bold)])  # fmt: skip
            for _btype, label, count, amount in st["types"]:
                append_row(ws, [label, count, amount])
            append_row(ws, [_("Total"), st["line_count"], st["total"]])
            append_row(ws, [_("Carried out"), None, st["carried_out"]])
            append_row(ws, [_("Paid in this run"), None, st["paid"]])
        ws = wb.create_sheet(_("Lines"))
        headers = [
            _("Bonus type"),
            _("Source code"),
            _("Source"),
            _("Level"),
            _("Base"),
            _("Rate (%)"),
            _("Amount"),
            _("Carried forward"),
            _("Journal entry"),
        ]
        ws.append([xlsx_cell(ws, h, bold) for h in headers])
        self.env["ds.bonus.line"].flush_model()
        last_id = 0
        while True:
            self.env.cr.execute(self._statement_lines_query(distributor, last_id))
            rows = self.env.cr.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            for row in rows:
                _id, btype, scode, sname, level, base, rate, amount, carried, move = row
                append_row(
                    ws,
                    [
                        labels.get(btype, btype),
                        scode,
                        sname,
                        level,
                        float(base or 0),
                        float(rate or 0),
                        float(amount or 0),
                        bool(carried),
                        move,
                    ],
                )
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def _export_xlsx_bytes(self):
        """XLSX export of the run (summary sheet + lines sheet), streamed from SQL."""
        self.ensure_one()
        import openpyxl  # external dependency declared in the manifest

        from ..tools.spreadsheet import append_row  # text cells, never formulas

        labels = self._type_labels()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(self.env._("Summary"))
        append_row(ws, [self.env._("Run"), self.name])
        append_row(ws, [self.env._("Period"), self.period_id.display_name])
        append_row(ws, [self.env._("Plan"), self.plan_id.name])
        append_row(
            ws,
            [self.env._("Status"), dict(self._fields["state"].selection)[self.state]],
        )
        append_row(ws, [self.env._("Period BV"), self.period_bv])
        append_row(ws, [self.env._("Payout ratio (%)"), self.payout_ratio])
        append_row(ws, [self.env._("Cap factor"), self.cap_factor])
        for btype, label in BONUS_TYPES:
            append_row(ws, [label, self["amount_" + btype]])
        append_row(ws, [self.env._("Carried out"), self.amount_carried_out])
        append_row(ws, [self.env._("Total paid"), self.total_amount])
        ws = wb.create_sheet(self.env._("Lines"))
        append_row(
            ws,
            [
                self.env._("Earner code"),
                self.env._("Earner"),
                self.env._("Bonus type"),
                self.env._("Source code"),
                self.env._("Source"),
                self.env._("Level"),
                self.env._("Base"),
                self.env._("Rate (%)"),
                self.env._("Amount"),
                self.env._("Carried forward"),
                self.env._("Journal entry"),
            ],
        )
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT d.code, p.name, l.bonus_type, sd.code, sp.name, l.level, l.base, l.rate,
                      l.amount, l.carried_forward, m.name
               FROM ds_bonus_line l
               JOIN ds_distributor d ON d.id = l.distributor_id
               JOIN res_partner p ON p.id = d.partner_id
               LEFT JOIN ds_distributor sd ON sd.id = l.source_distributor_id
               LEFT JOIN res_partner sp ON sp.id = sd.partner_id
               LEFT JOIN account_move m ON m.id = l.move_id
               WHERE l.run_id = %s ORDER BY l.id""",
                self.id,
            )
        )
        while rows := self.env.cr.fetchmany(10000):
            for row in rows:
                row = list(row)
                row[2] = labels.get(row[2], row[2])
                row[6], row[7], row[8] = (
                    float(row[6] or 0),
                    float(row[7] or 0),
                    float(row[8] or 0),
                )
                append_row(ws, row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def action_export_xlsx(self):
        ds_check_user(self.env, self.env._("export bonus runs"), self)
        self.ensure_one()
        attachment = self.env["ir.attachment"].create(
            {
                "name": "{}.xlsx".format(self.name.replace("/", "-")),
                "datas": base64.b64encode(self._export_xlsx_bytes()),
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_open_statement(self):
        """The statement wizard of this run: pick an earner, print the summary PDF or
        download every line as XLSX."""
        ds_check_user(self.env, self.env._("read the statements of bonus runs"), self)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Bonus Statement"),
            "res_model": "ds.bonus.statement",
            "view_mode": "form",
            "target": "new",
            "context": {"default_run_id": self.id},
        }

    def action_compare(self):
        ds_check_user(self.env, self.env._("compare bonus runs"), self)
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.action_ds_bonus_run_compare"
        )
        action["context"] = {"default_run_ids": [Command.set(self.ids)]}
        return action

    def _top_earners(self, limit=10):
        self.ensure_one()
        self.env["ds.bonus.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT l.distributor_id, SUM(l.amount) AS total FROM ds_bonus_line l
               WHERE l.run_id = %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s""",
                self.id,
                limit,
            )
        )
        rows = self.env.cr.fetchall()
        dists = self.env["ds.distributor"].browse([r[0] for r in rows])
        return [(d, float(t)) for d, (_i, t) in zip(dists, rows, strict=False)]
