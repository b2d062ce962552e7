from odoo import fields, models


class DsLifecycleLog(models.Model):
    """One row per (rule, partner, occasion): written in the same transaction
    as the message it records, and unique, so reruns of the lifecycle cron
    never send the same message twice for the same occasion."""

    _name = "ds.lifecycle.log"
    _description = "Lifecycle Message Log"
    _order = "id desc"
    _rec_name = "occasion_key"

    rule_id = fields.Many2one(
        "ds.lifecycle.rule", required=True, index=True, ondelete="cascade"
    )
    trigger = fields.Selection(related="rule_id.trigger")
    company_id = fields.Many2one("res.company", required=True, index=True)
    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    occasion_key = fields.Char(
        required=True,
        help="Identifies the occasion: the anniversary date, the rank, the period...",
    )
    occasion_date = fields.Date()
    mail_id = fields.Many2one("mail.mail", string="Email", ondelete="set null")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")

    _sql_constraints = [
        (
            "rule_partner_occasion_uniq",
            "UNIQUE(rule_id, partner_id, occasion_key)",
            "A lifecycle message is sent once per rule, partner and occasion.",
        ),
    ]
