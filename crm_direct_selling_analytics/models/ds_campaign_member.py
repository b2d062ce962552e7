from odoo import fields, models

from ..tools.sqlparts import drop_derived_table_extras
from .ds_partner_rfm import RFM_BANDS


class DsCampaignMember(models.Model):
    _name = "ds.campaign.member"
    _description = "Campaign Member (target or control)"
    _order = "campaign_id, partner_id"
    _rec_name = "partner_id"
    # the unique (parent, partner) index also serves lookups by parent: no separate index
    # rows written set-based by ds.campaign.action_assign() / action_measure() (up to millions): no
    # create/write user columns (two foreign-key checks per row); the campaign dates them
    _log_access = False

    campaign_id = fields.Many2one("ds.campaign", required=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="cascade", index=True
    )
    group = fields.Selection(
        [("target", "Target"), ("control", "Control")], required=True
    )
    rank_id = fields.Many2one("ds.rank", readonly=True)
    rfm_band = fields.Selection(RFM_BANDS, string="RFM Band", readonly=True)
    stratum = fields.Char(readonly=True)
    # written set-based by ds.campaign.action_measure() (members without purchases stay at zero)
    revenue = fields.Float(
        readonly=True,
        digits="Account",
        help="Revenue in the campaign window, last measurement.",
    )
    orders = fields.Integer(readonly=True)
    responded = fields.Boolean(readonly=True)

    _sql_constraints = [
        (
            "campaign_partner_uniq",
            "unique(campaign_id, partner_id)",
            "A partner is listed once per campaign.",
        ),
    ]

    def init(self):
        drop_derived_table_extras(self.env.cr, self._table)
