from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .ds_access import ds_check_user


class DsLeadRoutingRule(models.Model):
    """Rule routing company leads to distributors.

    A rule applies to a lead when the lead's address matches its territory
    (countries, states, zip prefixes; an empty criterion matches everything).
    The distributors eligible for the rule are the active distributors of the
    rule's company located in the same territory (or the explicit
    ``distributor_ids``), whose paid-as rank reaches ``min_rank_id``, and who
    hold fewer than ``max_open_leads`` open leads. Among them the lead goes to
    the referrer of the lead's customer when known (``prefer_referrer``), else
    round robin, starting after ``last_distributor_id``.
    """

    _name = "ds.lead.routing.rule"
    _description = "Lead Routing Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    country_ids = fields.Many2many("res.country", string="Countries")
    state_ids = fields.Many2many("res.country.state", string="States")
    zip_prefixes = fields.Char(
        help="Comma-separated postcode prefixes, e.g. '75, 92, 1000'. Empty means any postcode."
    )
    distributor_ids = fields.Many2many(
        "ds.distributor",
        string="Restrict to Distributors",
        help="When set, only these distributors receive leads from this rule "
        "(the territory still selects the leads).",
    )
    min_rank_id = fields.Many2one(
        "ds.rank",
        string="Minimum Rank",
        help="Only distributors paid as this rank or higher.",
    )
    max_open_leads = fields.Integer(
        string="Capacity",
        default=20,
        help="Maximum open (active, not won) leads per distributor. 0 means no limit.",
    )
    prefer_referrer = fields.Boolean(
        string="Referrer First",
        default=True,
        help="Route to the distributor who referred the customer when known and eligible.",
    )
    escalation_days = fields.Integer(
        default=3,
        help="A lead not accepted after this many days moves to the distributor's sponsor, "
        "then back to the company.",
    )
    max_escalations = fields.Integer(
        default=1,
        help="How many times a lead may move up the genealogy before it returns to the company.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        help="Notified when a lead comes back to the company; defaults to the lead's salesperson.",
    )
    last_distributor_id = fields.Many2one(
        "ds.distributor",
        string="Last Assigned",
        readonly=True,
        copy=False,
        help="Round-robin pointer: the next lead goes to the eligible distributor after this one.",
    )
    lead_count = fields.Integer(compute="_compute_lead_count", string="Routed Leads")

    _sql_constraints = [
        (
            "max_open_leads_positive",
            "CHECK(max_open_leads >= 0)",
            "The capacity cannot be negative.",
        ),
        (
            "escalation_days_positive",
            "CHECK(escalation_days >= 0)",
            "Escalation days cannot be negative.",
        ),
    ]

    def _compute_lead_count(self):
        groups = self.env["crm.lead"]._read_group(
            [("ds_routing_rule_id", "in", self.ids)],
            ["ds_routing_rule_id"],
            ["__count"],
        )
        counts = {rule.id: count for rule, count in groups}
        for rule in self:
            rule.lead_count = counts.get(rule.id, 0)

    @api.constrains("zip_prefixes")
    def _check_zip_prefixes(self):
        for rule in self:
            for prefix in rule._get_zip_prefixes():
                if " " in prefix or "%" in prefix or "_" in prefix:
                    raise ValidationError(
                        _(
                            "Rule %(rule)s: invalid postcode prefix '%(prefix)s'.",
                            rule=rule.name,
                            prefix=prefix,
                        )
                    )

    def _get_zip_prefixes(self):
        self.ensure_one()
        return [
            p.strip().upper() for p in (self.zip_prefixes or "").split(",") if p.strip()
        ]

    # ------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------
    def _match_address(self, country_id, state_id, zip_code):
        """Whether an address (ids and postcode) lies in the rule's territory."""
        self.ensure_one()
        if self.country_ids and country_id not in self.country_ids.ids:
            return False
        if self.state_ids and state_id not in self.state_ids.ids:
            return False
        prefixes = self._get_zip_prefixes()
        if prefixes:
            zip_code = (zip_code or "").replace(" ", "").upper()
            if not zip_code or not any(zip_code.startswith(p) for p in prefixes):
                return False
        return True

    def _get_eligible_distributor_ids(self):
        """Ordered ids of the distributors eligible for this rule, in one query
        (capacity is not checked here)."""
        self.ensure_one()
        self.env["ds.distributor"].flush_model()
        self.env["res.partner"].flush_model(["country_id", "state_id", "zip"])
        self.env["ds.rank"].flush_model()
        conditions = [
            SQL("d.state = 'active'"),
            SQL("d.company_id = %s", self.company_id.id),
        ]
        if self.distributor_ids:
            conditions.append(SQL("d.id = ANY(%s)", self.distributor_ids.ids))
        else:
            if self.country_ids:
                conditions.append(SQL("p.country_id = ANY(%s)", self.country_ids.ids))
            if self.state_ids:
                conditions.append(SQL("p.state_id = ANY(%s)", self.state_ids.ids))
            prefixes = self._get_zip_prefixes()
            if prefixes:
                conditions.append(
                    SQL(
                        "UPPER(REPLACE(COALESCE(p.zip, ''), ' ', '')) LIKE ANY(%s)",
                        [prefix + "%" for prefix in prefixes],
                    )
                )
        if self.min_rank_id:
            conditions.append(SQL("r.sequence >= %s", self.min_rank_id.sequence))
        rows = self.env.execute_query(
            SQL(
                """
                SELECT d.id
                  FROM ds_distributor d
                  JOIN res_partner p ON p.id = d.partner_id
             LEFT JOIN ds_rank r ON r.id = d.rank_id
                 WHERE %s
              ORDER BY d.id
                """,
                SQL(" AND ").join(conditions),
            )
        )
        return [row[0] for row in rows]

    def _is_distributor_eligible_sql(self, distributor_ids):
        """Subset of ``distributor_ids`` eligible for this rule, ignoring the
        territory (used for referrers), in one query."""
        self.ensure_one()
        if not distributor_ids:
            return set()
        conditions = [
            SQL("d.id = ANY(%s)", list(distributor_ids)),
            SQL("d.state = 'active'"),
            SQL("d.company_id = %s", self.company_id.id),
        ]
        if self.min_rank_id:
            conditions.append(SQL("r.sequence >= %s", self.min_rank_id.sequence))
        self.env["ds.distributor"].flush_model()
        rows = self.env.execute_query(
            SQL(
                "SELECT d.id FROM ds_distributor d LEFT JOIN ds_rank r ON r.id = d.rank_id WHERE %s",
                SQL(" AND ").join(conditions),
            )
        )
        return {row[0] for row in rows}

    def action_view_leads(self):
        ds_check_user(self.env, self.env._("open the leads routed by a rule"), self)
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_direct_selling.crm_lead_action_ds_routed"
        )
        action["domain"] = [("ds_routing_rule_id", "=", self.id)]
        action["context"] = {"active_test": False}
        return action
