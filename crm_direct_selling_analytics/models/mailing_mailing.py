from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..tools.sqlparts import holdout_condition


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    ds_segment_id = fields.Many2one(
        "ds.segment",
        string="Segment",
        index="btree_not_null",
        help="Send to the current members of this segment (contacts).",
    )
    ds_campaign_id = fields.Many2one(
        "ds.campaign",
        string="DS Campaign",
        index="btree_not_null",
        help="Only the campaign's target group is mailed; its control group and the global holdout never are.",
    )
    ds_excluded_count = fields.Integer(
        string="Excluded (control / holdout)",
        compute="_compute_ds_excluded_count",
        help="Contacts matching the recipients filter that are not mailed because they are in the campaign's "
        "control group, in the global holdout or outside the campaign.",
    )

    @api.depends("ds_segment_id")
    def _compute_mailing_domain(self):
        res = super()._compute_mailing_domain()
        for mailing in self:
            if mailing.ds_segment_id and mailing.mailing_model_name == "res.partner":
                mailing.mailing_domain = repr(
                    [
                        (
                            "ds_segment_member_ids.segment_id",
                            "=",
                            mailing.ds_segment_id.id,
                        )
                    ]
                )
        return res

    @api.onchange("ds_segment_id", "ds_campaign_id")
    def _onchange_ds_audience(self):
        if (
            self.ds_segment_id or self.ds_campaign_id
        ) and self.mailing_model_name != "res.partner":
            self.mailing_model_id = self.env["ir.model"]._get("res.partner")
        if self.ds_campaign_id and not self.ds_segment_id:
            self.ds_segment_id = self.ds_campaign_id.segment_id

    def _ds_target_domain(self):
        self.ensure_one()
        return [
            (
                "ds_campaign_member_ids",
                "any",
                [
                    ("campaign_id", "=", self.ds_campaign_id.id),
                    ("group", "=", "target"),
                ],
            )
        ]

    def _get_recipients_domain(self):
        domain = super()._get_recipients_domain()
        if self.ds_campaign_id:
            if self.mailing_model_real != "res.partner":
                raise UserError(
                    _(
                        "Mailing %s: a direct-selling campaign mailing must be sent to contacts.",
                        self.subject,
                    )
                )
            domain = expression.AND([domain, self._ds_target_domain()])
        elif self.ds_segment_id and self.mailing_model_real == "res.partner":
            domain = expression.AND([domain, self._ds_protected_domain()])
        return domain

    def _ds_protected_domain(self):
        """A segment mailing outside any campaign still spares the people whose
        silence is being measured: the company's global holdout and the control
        groups of running campaigns."""
        self.ensure_one()
        domain = [
            (
                "ds_campaign_member_ids",
                "not any",
                [("group", "=", "control"), ("campaign_id.state", "=", "running")],
            )
        ]
        company = self.ds_segment_id.company_id or self.env.company
        if company.ds_holdout_pct:
            holdout_ids = [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """SELECT m.partner_id FROM ds_segment_member m
                            WHERE m.segment_id = %s AND %s""",
                        self.ds_segment_id.id,
                        holdout_condition(company, SQL("m.partner_id")),
                    )
                )
            ]
            if holdout_ids:
                domain.append(("id", "not in", holdout_ids))
        return domain

    @api.depends("ds_campaign_id", "mailing_domain", "mailing_model_real")
    def _compute_ds_excluded_count(self):
        for mailing in self:
            if (
                not mailing.ds_campaign_id
                or mailing.mailing_model_real != "res.partner"
            ):
                mailing.ds_excluded_count = 0
                continue
            Partner = self.env["res.partner"]
            base = mailing._parse_mailing_domain()
            mailing.ds_excluded_count = Partner.search_count(
                base
            ) - Partner.search_count(
                expression.AND([base, mailing._ds_target_domain()])
            )
