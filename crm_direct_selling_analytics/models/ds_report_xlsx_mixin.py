import base64
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from odoo import _, api, fields, models

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user
from odoo.addons.crm_direct_selling.tools.spreadsheet import append_row, xlsx_cell


class DsReportXlsxMixin(models.AbstractModel):
    _name = "ds.report.xlsx.mixin"
    _description = "XLSX export of a decision report"

    _xlsx_fields = ()
    _xlsx_batch = 10000

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        # SQL-view reports read other models' tables: pending ORM writes must reach the database first
        if not self._auto:
            self.env.flush_all()
        return super()._search(
            domain, offset=offset, limit=limit, order=order, **kwargs
        )

    @api.model
    def _xlsx_columns(self):
        return list(self._xlsx_fields)

    @api.model
    def _xlsx_domain(self):
        return []

    @api.model
    def _xlsx_summary(self):
        """Rows written above the table, e.g. [(label, value)]; empty by default."""
        return []

    @api.model
    def _xlsx_cell(self, record, fname):
        field = self._fields[fname]
        value = record[fname]
        if field.type == "many2one":
            return value.display_name or ""
        if field.type == "selection":
            return (
                dict(field._description_selection(self.env)).get(value, "")
                if value
                else ""
            )
        if field.type == "boolean":
            return bool(value)
        if value is False and field.type not in ("integer", "float", "monetary"):
            return ""
        if field.type in ("date", "datetime") and value:
            return value
        return value

    @api.model
    def _xlsx_export(self):
        """Workbook bytes: optional summary block, then one row per report record."""
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title=self._description[:31])
        bold = Font(bold=True)
        summary = self._xlsx_summary()
        for row in summary:
            append_row(ws, list(row))
        if summary:
            ws.append([])
        columns = self._xlsx_columns()
        header = [self._fields[f].get_description(self.env)["string"] for f in columns]
        ws.append([xlsx_cell(ws, title, font=bold) for title in header])
        domain = self._xlsx_domain()
        offset = 0
        while True:
            records = self.search_fetch(
                domain,
                columns,
                offset=offset,
                limit=self._xlsx_batch,
                order=self._order,
            )
            for record in records:
                append_row(ws, [self._xlsx_cell(record, f) for f in columns])
            if len(records) < self._xlsx_batch:
                break
            offset += self._xlsx_batch
            self.env.invalidate_all()
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    @api.model
    def action_export_xlsx(self, res_ids=None):
        """The whole report as an XLSX download. ``res_ids``: the rows selected in the
        list, which the web client passes to a list header button (the export covers
        the report as filtered by ``_xlsx_domain``, not a selection)."""
        ds_check_user(self.env, _("export decision reports"), self)
        data = self._xlsx_export()
        name = f"{self._description} {fields.Date.context_today(self)}.xlsx"
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "datas": base64.b64encode(data),
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": self._name,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
            "name": _("Export"),
        }
