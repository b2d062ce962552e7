from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_user

DEFAULT_TEMPLATE_XMLID = "crm_direct_selling_analytics.ds_segment_mailing_template"


class DsCampaign(models.Model):
    """Company-to-segment messaging: personalised mass mailings of a campaign.

    The mailing targets contacts (res.partner) of the campaign's segment; the recipient filter of
    ``mailing.mailing`` (``ds_campaign_id``) keeps only the campaign's target group, so the control
    group and the global holdout are never mailed, whatever the variant. Opt-outs are applied at
    send time by ``res.partner._mailing_get_opt_out_list``.
    """

    _inherit = "ds.campaign"

    recommend_product = fields.Boolean(
        string="Recommend Each Member's Next Product",
        help="New mailings of this campaign name each recipient's own next best product "
        "(their first recommendation from the co-purchases, res.partner "
        "ds_next_product_id); recipients without one get no recommendation line.",
    )

    def _ds_recommendation_block(self):
        """QWeb paragraph rendering the recipient's own next best product."""
        return Markup(
            '<p class="o_ds_next_product" t-if="object.ds_next_product_id">%s '
            "<strong t-out=\"object.ds_next_product_id.display_name or ''\"/></p>"
        ) % _("Picked for you:")

    def _ds_recommendation_body(self, body):
        """``body`` with the recommendation paragraph appended (before the closing tag of
        the outer element), unless it already names the next best product."""
        if not self.recommend_product or "ds_next_product_id" in body:
            return body
        body = Markup(body)
        block = self._ds_recommendation_block()
        if body.rstrip().endswith("</div>"):
            head = body.rstrip()[: -len("</div>")]
            return Markup(head) + block + Markup("</div>")
        return body + block

    def _ds_ensure_utm_campaign(self):
        """Each campaign gets its UTM campaign (created on first need), shared by its mailings."""
        for campaign in self.filtered(lambda c: not c.utm_campaign_id):
            campaign.utm_campaign_id = self.env["utm.campaign"].create(
                {"title": campaign.name}
            )
        return self.utm_campaign_id

    def _ds_default_mailing_content(self):
        """Subject and QWeb body of the default template (editable mail.template), with a fallback."""
        template = self.env.ref(DEFAULT_TEMPLATE_XMLID, raise_if_not_found=False)
        if template and template.body_html:
            return template.subject or self.name, template.body_html
        body = Markup(
            "<div>"
            "<p>Hello <t t-out=\"object.name or ''\"/>,</p>"
            '<p t-if="object.ds_distributor_id">Your rank: '
            "<t t-out=\"object.ds_distributor_id.rank_id.name or ''\"/>. Your sponsor: "
            "<t t-out=\"object.ds_distributor_id.sponsor_id.name or ''\"/>. "
            '<t t-if="object.ds_next_rank_id">Only <t t-out="object.ds_pv_to_next_rank" '
            "t-options=\"{'widget': 'float', 'precision': 2}\"/> PV to go to reach "
            "<t t-out=\"object.ds_next_rank_id.name or ''\"/>.</t></p>"
            '<p>Your points balance: <t t-out="object.ds_loyalty_points" '
            "t-options=\"{'widget': 'float', 'precision': 2}\"/> points.</p>"
            "</div>"
        )
        return self.name, body

    def _ds_prepare_mailing_values(self, subject=None, body_html=None, ab_testing_pc=0):
        self.ensure_one()
        default_subject, default_body = self._ds_default_mailing_content()
        body = self._ds_recommendation_body(body_html or default_body)
        vals = {
            "subject": subject or default_subject,
            "body_html": body,
            "body_arch": body,
            "mailing_type": "mail",
            "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            "ds_campaign_id": self.id,
            "ds_segment_id": self.segment_id.id,
            "campaign_id": self.utm_campaign_id.id,
        }
        if ab_testing_pc:
            if not 0 < ab_testing_pc < 100:
                raise UserError(
                    _(
                        "Campaign %(name)s: the A/B test share of a variant must be between 1 and 99%% "
                        "(got %(pc)s).",
                        name=self.name,
                        pc=ab_testing_pc,
                    )
                )
            vals.update({"ab_testing_enabled": True, "ab_testing_pc": ab_testing_pc})
        return vals

    def _ds_create_mailing(self, subject=None, body_html=None, ab_testing_pc=0):
        """Create the personalised mailing (draft) of this campaign and return it."""
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(
                _("Campaign %s is cancelled: it cannot send mailings.", self.name)
            )
        self._ds_ensure_utm_campaign()
        return self.env["mailing.mailing"].create(
            self._ds_prepare_mailing_values(
                subject=subject, body_html=body_html, ab_testing_pc=ab_testing_pc
            )
        )

    def action_create_mailing(self, subject=None, body_html=None, ab_testing_pc=0):
        """Button "New Mailing": a draft mass mailing to the campaign's target group, personalised
        per contact (name, rank, sponsor, PV to the next rank, points balance), attributed to the
        campaign's UTM campaign. With ``ab_testing_pc`` the mailing is one A/B variant sent to that
        share of the target group; further variants (same UTM campaign) go to other target members.
        Launching the campaign queues its draft mailings."""
        ds_check_user(self.env, _("create campaign mailings"), self, "write")
        self.ensure_one()
        mailing = self._ds_create_mailing(
            subject=subject, body_html=body_html, ab_testing_pc=ab_testing_pc
        )
        return {
            "type": "ir.actions.act_window",
            "name": _("Mailing"),
            "res_model": "mailing.mailing",
            "res_id": mailing.id,
            "view_mode": "form",
            "target": "current",
        }
