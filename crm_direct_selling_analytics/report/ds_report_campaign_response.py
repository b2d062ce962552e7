from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.tools.spreadsheet import append_row


class DsReportCampaignResponse(models.Model):
    _name = "ds.report.campaign.response"
    _inherit = ["ds.report.xlsx.mixin"]
    _description = "Revenue Response by Campaign and Segment"
    _auto = False
    _order = "campaign_id desc, group"
    _rec_name = "campaign_id"
    _xlsx_fields = (
        "campaign_id",
        "segment_id",
        "group",
        "member_count",
        "responders",
        "response_rate",
        "revenue",
        "revenue_per_member",
    )

    campaign_id = fields.Many2one("ds.campaign", readonly=True)
    segment_id = fields.Many2one("ds.segment", readonly=True)
    date_start = fields.Date(readonly=True)
    group = fields.Selection(
        [("target", "Target"), ("control", "Control")], readonly=True
    )
    partner_id = fields.Many2one("res.partner", readonly=True)
    member_count = fields.Integer(string="Members", readonly=True, aggregator="sum")
    responders = fields.Integer(readonly=True, aggregator="sum")
    response_rate = fields.Float(
        string="Response Rate (%)", readonly=True, aggregator="avg", digits=(16, 2)
    )
    revenue = fields.Float(readonly=True, aggregator="sum", digits="Account")
    revenue_per_member = fields.Float(readonly=True, aggregator="avg", digits=(16, 2))

    @property
    def _table_query(self):
        """Per member, as written by the campaign's last measurement (same attribution and window)."""
        return SQL(
            """
            SELECT cm.id, cm.campaign_id, c.segment_id, c.date_start, cm."group", cm.partner_id,
                   1 AS member_count, cm.responded::int AS responders,
                   CASE WHEN cm.responded THEN 100.0 ELSE 0.0 END AS response_rate,
                   COALESCE(cm.revenue, 0) AS revenue, COALESCE(cm.revenue, 0) AS revenue_per_member
              FROM ds_campaign_member cm
              JOIN ds_campaign c ON c.id = cm.campaign_id
             WHERE c.state IN ('running', 'done') AND c.company_id IN %s
            """,
            tuple(self.env.companies.ids),
        )

    @api.model
    def _xlsx_export_rows(self):
        return self._read_group(
            [],
            ["campaign_id", "segment_id", "group"],
            ["member_count:sum", "responders:sum", "revenue:sum"],
        )

    @api.model
    def _xlsx_export(self):
        """One row per campaign, segment and group (aggregated in SQL), not one per member."""
        import io

        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title="Campaign response")
        append_row(
            ws,
            [
                "Campaign",
                "Segment",
                "Group",
                "Members",
                "Responders",
                "Response Rate (%)",
                "Revenue",
                "Revenue per Member",
            ],
        )
        labels = dict(self._fields["group"]._description_selection(self.env))
        for (
            campaign,
            segment,
            group,
            members,
            responders,
            revenue,
        ) in self._xlsx_export_rows():
            append_row(
                ws,
                [
                    campaign.display_name,
                    segment.display_name,
                    labels.get(group, group),
                    members,
                    responders,
                    round(responders * 100.0 / members, 4) if members else 0.0,
                    revenue,
                    round(revenue / members, 4) if members else 0.0,
                ],
            )
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()
