from odoo import _, api, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    @api.constrains("partner_id", "program_id")
    def _check_ds_campaign_target(self):
        """A coupon of a campaign program may only belong to a target member (one query per batch)."""
        cards = self.filtered(lambda c: c.program_id.ds_campaign_id)
        if not cards:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT c.id FROM loyalty_card c
                 JOIN loyalty_program p ON p.id = c.program_id
                WHERE c.id IN %s
                  AND (c.partner_id IS NULL OR NOT EXISTS (
                       SELECT 1 FROM ds_campaign_member m
                        WHERE m.campaign_id = p.ds_campaign_id AND m.partner_id = c.partner_id
                          AND m."group" = 'target'))""",
                tuple(cards.ids),
            )
        )
        bad = self.browse([r[0] for r in self.env.cr.fetchall()])
        if bad:
            raise ValidationError(
                _(
                    "Coupons of a campaign program go to its target group only; not allowed for: %s",
                    ", ".join(
                        bad.mapped(
                            lambda c: c.partner_id.display_name or _("(no customer)")
                        )
                    ),
                )
            )
