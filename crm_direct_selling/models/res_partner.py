from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    ds_distributor_ids = fields.One2many(
        "ds.distributor", "partner_id", string="Distributor Records"
    )
    ds_distributor_id = fields.Many2one(
        "ds.distributor",
        string="Distributor",
        compute="_compute_ds_distributor_id",
        store=True,
        index=True,
        help="The distributor record of this contact, if the contact is a distributor.",
    )
    ds_referrer_id = fields.Many2one(
        "ds.distributor",
        string="Referrer",
        index=True,
        tracking=True,
        ondelete="set null",
        help="Distributor credited with this retail customer's purchases.",
    )
    ds_birthday = fields.Date(string="Birthday")

    @api.depends("ds_distributor_ids")
    def _compute_ds_distributor_id(self):
        for partner in self:
            partner.ds_distributor_id = partner.ds_distributor_ids[:1]

    def _ds_credited_distributor(self):
        """Distributor credited with this partner's purchases: itself if a distributor, else its referrer."""
        self.ensure_one()
        partner = self
        commercial = partner.commercial_partner_id
        return (
            partner.ds_distributor_id
            or commercial.ds_distributor_id
            or partner.ds_referrer_id
            or commercial.ds_referrer_id
        )
