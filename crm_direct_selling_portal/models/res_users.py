from odoo import api, models
from odoo.http import request

REFERRAL_SESSION_KEY = "ds_referrer_id"
REFERRAL_COOKIE = "ds_ref"


def ds_request_referrer(env):
    """The distributor credited by the referral link of the current visitor, sudo,
    or an empty recordset (no request, no link, unknown code, or a distributor who is
    no longer active: suspended or terminated distributors' links attribute nobody)."""
    Distributor = env["ds.distributor"].sudo()
    if not request:
        return Distributor
    distributor_id = request.session.get(REFERRAL_SESSION_KEY)
    if distributor_id:
        distributor = Distributor.browse(int(distributor_id)).exists()
    else:
        code = request.httprequest.cookies.get(REFERRAL_COOKIE)
        distributor = (
            code and Distributor.search([("code", "=", code)], limit=1) or Distributor
        )
    if distributor and distributor.state != "active":
        return Distributor
    return distributor


def ds_attribute_referral(env, partners):
    """Set ds_referrer_id on retail customers (not distributors, no referrer yet, not
    the website's public partner) from the referral link of the current visitor, and
    protect them (``ds_referrer_locked``): a later link of another distributor does
    not move them."""
    referrer = ds_request_referrer(env)
    if not referrer:
        return
    todo = partners.sudo().filtered(
        lambda p: (
            not p.ds_referrer_id
            and not p.ds_distributor_id
            and not p.commercial_partner_id.ds_distributor_id
            and not p.commercial_partner_id.ds_referrer_id
            and p != referrer.partner_id
            and not any(
                u._is_public() for u in p.with_context(active_test=False).user_ids
            )
        )
    )
    if todo:
        todo.write({"ds_referrer_id": referrer.id, "ds_referrer_locked": True})


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        # users of a course's auto-enrol group join it unless its rank is not reached
        users = super(ResUsers, self.with_context(ds_rank_skip_refused=True)).create(
            vals_list
        )
        return users.with_env(self.env)

    def write(self, vals):
        return super(ResUsers, self.with_context(ds_rank_skip_refused=True)).write(vals)

    @api.model
    def _signup_create_user(self, values):
        user = super()._signup_create_user(values)
        ds_attribute_referral(self.env, user.partner_id)
        return user
