import base64
import io

from odoo import _, fields, models
from odoo.tools import SQL

from ..tools.spreadsheet import append_row


class DsDistributorExport(models.TransientModel):
    _name = "ds.distributor.export"
    _description = "Export Distributors to XLSX"

    distributor_ids = fields.Many2many(
        "ds.distributor",
        string="Distributors",
        help="Leave empty to export every distributor of the company.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    file_data = fields.Binary(string="File", readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    def _export_rows(self):
        """Rows in the import format (header first), read with one query."""
        self.env["ds.distributor"].flush_model()
        self.env["res.partner"].flush_model()
        domain_ids = self.distributor_ids.ids
        # respect record rules / access through a search when a selection is given
        if domain_ids:
            ids = self.env["ds.distributor"].search([("id", "in", domain_ids)]).ids
        else:
            ids = (
                self.env["ds.distributor"]
                .search([("company_id", "=", self.company_id.id)])
                .ids
            )
        header = [
            "type",
            "code",
            "name",
            "sponsor_code",
            "referrer_code",
            "email",
            "phone",
            "street",
            "city",
            "zip",
            "country_code",
            "enrollment_date",
            "birthday",
        ]
        rows = self.env.execute_query(
            SQL(
                """
            SELECT 'distributor', d.code, p.name, s.code, NULL, p.email, p.phone, p.street, p.city, p.zip,
                   c.code, d.enrollment_date, p.ds_birthday
              FROM ds_distributor d
              JOIN res_partner p ON p.id = d.partner_id
         LEFT JOIN ds_distributor s ON s.id = d.sponsor_id
         LEFT JOIN res_country c ON c.id = p.country_id
             WHERE d.id = ANY(%s)
          ORDER BY d.depth, d.id
            """,
                ids,
            )
        )
        return header, rows

    def action_export(self):
        self.ensure_one()
        import openpyxl

        header, rows = self._export_rows()
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(_("Distributors"))
        append_row(ws, header)
        for row in rows:
            append_row(
                ws, [v.isoformat() if hasattr(v, "isoformat") else v for v in row]
            )
        buf = io.BytesIO()
        wb.save(buf)
        self.write(
            {
                "file_data": base64.b64encode(buf.getvalue()),
                "file_name": "distributors.xlsx",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/?model={self._name}&id={self.id}&field=file_data&filename_field=file_name&download=true",
            "target": "self",
        }
