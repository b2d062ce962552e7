from odoo import api, fields, models

from .ds_access import ds_check_user


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

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("ds_referrer_id") for vals in vals_list):
            ds_check_user(self.env, self.env._("credit customers to a distributor"))
        return super().create(vals_list)

    def write(self, vals):
        # the referrer is credited with the customer's purchases (volumes, bonuses)
        if "ds_referrer_id" in vals and any(
            p.ds_referrer_id.id != (vals["ds_referrer_id"] or False) for p in self
        ):
            ds_check_user(self.env, self.env._("credit customers to a distributor"))
        return super().write(vals)

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
