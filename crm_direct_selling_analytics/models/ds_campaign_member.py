from odoo import fields, models

from odoo.addons.crm_direct_selling.models.derived_table import (
    ensure_table,
)

from .ds_partner_rfm import RFM_BANDS


class DsCampaignMember(models.Model):
    _name = "ds.campaign.member"
    _description = "Campaign Member (target or control)"
    _order = "campaign_id, partner_id"
    _rec_name = "partner_id"
    # rows written set-based by ds.campaign.action_assign() / action_measure() (up to millions):
    # the table is made by init() without foreign keys and without create/write user columns
    # (crm_direct_selling's derived_table.py: each foreign key costs a trigger call per inserted
    # row); the campaign dates them. The ondelete rules are applied by ds.campaign, res.partner
    # and ds.rank unlink().
    _auto = False

    campaign_id = fields.Many2one("ds.campaign", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade")
    group = fields.Selection(
        [("target", "Target"), ("control", "Control")], required=True
    )
    rank_id = fields.Many2one("ds.rank", readonly=True, ondelete="set null")
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

    def init(self):
        cr = self.env.cr
        # the unique (campaign, partner) index serves lookups by campaign; the partner index
        # serves res.partner unlink() and the mailing domains on a partner's campaigns.
        # Unique constraint under a new name: Odoo drops the former _sql_constraints one.
        ensure_table(
            cr,
            self._table,
            [
                ("campaign_id", "int4 NOT NULL"),
                ("partner_id", "int4 NOT NULL"),
                ("group", "varchar NOT NULL"),
                ("rank_id", "int4"),
                ("rfm_band", "varchar"),
                ("stratum", "varchar"),
                ("revenue", "numeric"),
                ("orders", "int4"),
                ("responded", "bool"),
            ],
            indexes=[("ds_campaign_member__partner_id_index", ("partner_id",))],
            unique=[
                (
                    "ds_campaign_member_campaign_partner_key",
                    ("campaign_id", "partner_id"),
                )
            ],
        )
