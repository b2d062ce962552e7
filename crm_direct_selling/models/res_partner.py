from odoo import api, fields, models
from odoo.exceptions import UserError

from .ds_access import DS_USER, ds_check_user


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
    ds_referrer_locked = fields.Boolean(
        string="Customer Protection",
        tracking=True,
        help="The customer stays attributed to their referrer: set when a customer buys or signs "
        "up through a distributor's shop link. A later link of another distributor does not move "
        "them; only Direct Selling users move them in the back office (logged in the chatter).",
    )
    ds_birthday = fields.Date(string="Birthday")

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("ds_referrer_id") for vals in vals_list):
            ds_check_user(self.env, self.env._("credit customers to a distributor"))
        return super().create(vals_list)

    def write(self, vals):
        # the referrer is credited with the customer's purchases (volumes, bonuses)
        moved = self.browse()
        if "ds_referrer_id" in vals:
            moved = self.filtered(
                lambda p: p.ds_referrer_id.id != (vals["ds_referrer_id"] or False)
            )
            if moved:
                ds_check_user(self.env, self.env._("credit customers to a distributor"))
            protected = moved.filtered(
                lambda p: p.ds_referrer_id and p.ds_referrer_locked
            )
            if (
                protected
                and not self.env.user._is_superuser()
                and not self.env.user.has_group(DS_USER)
            ):
                # sudo code paths of the website/portal (a referral link, a checkout) never
                # move a protected customer; a Direct Selling user in the back office does
                raise UserError(
                    self.env._(
                        "Customer %(customer)s is protected: they stay attributed to %(referrer)s."
                        " Only the Direct Selling back office can move them.",
                        customer=protected[0].display_name,
                        referrer=protected[0].ds_referrer_id.display_name,
                    )
                )
            moved = protected
        if "ds_referrer_locked" in vals and any(
            p.ds_referrer_locked != bool(vals["ds_referrer_locked"]) for p in self
        ):
            ds_check_user(self.env, self.env._("change the protection of customers"))
        old = {p.id: p.ds_referrer_id for p in moved}
        res = super().write(vals)
        for partner in moved:
            # a note logged in the chatter (no mail goes out, no sender address needed)
            partner._message_log(
                body=self.env._(
                    "Protected customer moved from %(old)s to %(new)s by %(user)s.",
                    old=old[partner.id].display_name,
                    new=partner.ds_referrer_id.display_name
                    or self.env._("no referrer"),
                    user=self.env.user.name,
                ),
            )
        return res

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
