from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.crm_direct_selling.models.ds_access import ds_check_manager

MAX_RECIPIENTS = 5000

AUDIENCES = [
    ("everyone", "Everyone in my organisation"),
    ("rank", "A rank"),
    ("new_recruits", "New recruits (last 30 days)"),
    ("inactive", "Inactive this period"),
    ("at_risk", "At risk"),
]


class DsPortalMessage(models.Model):
    _name = "ds.portal.message"
    _description = "Leader Message to the Downline"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(string="Subject", required=True)
    body = fields.Html(required=True, sanitize_style=True)
    leader_id = fields.Many2one(
        "ds.distributor", required=True, index=True, ondelete="cascade"
    )
    author_id = fields.Many2one(related="leader_id.partner_id", string="Author")
    company_id = fields.Many2one(related="leader_id.company_id", store=True)
    audience = fields.Selection(AUDIENCES, required=True, default="everyone")
    rank_id = fields.Many2one("ds.rank")
    recipient_ids = fields.Many2many(
        "res.partner",
        "ds_portal_message_recipient_rel",
        "message_id",
        "partner_id",
        string="Recipients",
    )
    recipient_count = fields.Integer(readonly=True)
    excluded_count = fields.Integer(
        readonly=True,
        help="Members of the audience skipped: opted out, blacklisted or without email.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("sent", "Sent")], default="draft", required=True
    )
    sent_date = fields.Datetime(readonly=True)

    @api.constrains("audience", "rank_id")
    def _check_rank(self):
        for message in self:
            if message.audience == "rank" and not message.rank_id:
                raise ValidationError(
                    _(
                        "Message “%s”: choose the rank whose members receive it.",
                        message.name,
                    )
                )

    def _audience_query(self):
        """SQL of the partner ids of the audience (whole downline of the leader,
        leader excluded), before opt-outs."""
        self.ensure_one()
        leader = self.leader_id.sudo()
        return leader._ds_downline_query(
            filters={"audience": self.audience, "rank_id": self.rank_id.id},
            select=SQL("d.partner_id"),
        )

    def _compute_recipients(self):
        """Return (recipient partner ids, excluded count) set-based in SQL."""
        self.ensure_one()
        audience = self._audience_query()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT p.id,
                       (p.email_normalized IS NULL
                        OR COALESCE(p.ds_portal_message_opt_out, FALSE)
                        OR EXISTS (SELECT 1 FROM mail_blacklist bl
                                    WHERE bl.email = p.email_normalized AND bl.active)) AS excluded
                  FROM res_partner p
                 WHERE p.id IN (%s)
                """,
                audience,
            )
        )
        recipients = [pid for pid, excluded in rows if not excluded]
        return recipients, len(rows) - len(recipients)

    def action_send(self):
        """Send draft messages. Portal leaders send theirs through /my/messages (as
        superuser, after the controller's checks); in the backend, managers only."""
        ds_check_manager(self.env, _("send leader messages"), self)
        for message in self:
            if message.state != "draft":
                raise UserError(_("Message “%s” was already sent.", message.name))
            recipient_ids, excluded = message._compute_recipients()
            max_recipients = int(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param(
                    "crm_direct_selling_portal.message_max_recipients", MAX_RECIPIENTS
                )
            )
            if len(recipient_ids) > max_recipients:
                raise UserError(
                    _(
                        "Message “%(name)s” would reach %(count)s members; messages from the "
                        "portal are limited to %(max)s recipients. Choose a narrower audience "
                        "or ask the company to send a mailing.",
                        name=message.name,
                        count=len(recipient_ids),
                        max=max_recipients,
                    )
                )
            if not recipient_ids:
                raise UserError(
                    _(
                        "Message “%s”: nobody in this audience can receive it.",
                        message.name,
                    )
                )
            message.write(
                {
                    "recipient_ids": [Command.set(recipient_ids)],
                    "recipient_count": len(recipient_ids),
                    "excluded_count": excluded,
                    "state": "sent",
                    "sent_date": fields.Datetime.now(),
                }
            )
            author = message.leader_id.partner_id
            message.sudo().with_context(mail_create_nosubscribe=True).message_post(
                subject=message.name,
                body=message.body,
                author_id=author.id,
                email_from=author.email_formatted,
                partner_ids=recipient_ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                email_add_signature=False,
            )
        return True
