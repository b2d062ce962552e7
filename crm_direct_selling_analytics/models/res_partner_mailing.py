from odoo import models
from odoo.tools import SQL


class ResPartner(models.Model):
    """Opt-outs of direct-selling mailings to contacts (segment or campaign mailings).

    Odoo already cancels blacklisted addresses (mail.blacklist) in every mass mailing. A mailing
    aimed at a direct-selling segment or campaign also skips, as "opted out":

    * contacts that asked for no direct-selling messages (``ds_lifecycle_opt_out``);
    * addresses that unsubscribed from a mailing list and are subscribed to none (the rule Odoo
      applies to mailing lists, extended to contacts).
    """

    _inherit = "res.partner"

    def _mailing_get_opt_out_list(self, mailing):
        parent = getattr(super(), "_mailing_get_opt_out_list", None)
        opt_out = set(parent(mailing)) if parent else set()
        if mailing.ds_campaign_id or mailing.ds_segment_id:
            opt_out |= self._ds_mailing_opt_out_emails(mailing)
        return opt_out

    def _ds_mailing_opt_out_emails(self, mailing):
        """Normalized emails of the mailing's audience that opted out, in one query."""
        if mailing.ds_campaign_id:
            audience = SQL(
                """SELECT partner_id FROM ds_campaign_member
                    WHERE campaign_id = %s AND "group" = 'target'""",
                mailing.ds_campaign_id.id,
            )
        else:
            audience = SQL(
                "SELECT partner_id FROM ds_segment_member WHERE segment_id = %s",
                mailing.ds_segment_id.id,
            )
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                """
            SELECT DISTINCT p.email_normalized
              FROM res_partner p
             WHERE p.id IN (%(audience)s)
               AND p.email_normalized IS NOT NULL
               AND (p.ds_lifecycle_opt_out
                    OR (EXISTS (SELECT 1 FROM mailing_contact c
                                  JOIN mailing_subscription s ON s.contact_id = c.id
                                 WHERE c.email_normalized = p.email_normalized AND s.opt_out)
                        AND NOT EXISTS (SELECT 1 FROM mailing_contact c
                                          JOIN mailing_subscription s ON s.contact_id = c.id
                                         WHERE c.email_normalized = p.email_normalized
                                           AND NOT s.opt_out)))
                """,
                audience=audience,
            )
        )
        return {row[0] for row in rows}
