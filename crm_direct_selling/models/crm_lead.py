import bisect
import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

DEFAULT_ESCALATION_DAYS = 3


class CrmLead(models.Model):
    """Shared sales opportunities: company leads routed to distributors.

    The UTM fields (campaign_id, source_id, medium_id) are never written by
    the routing, so results trace back to the originating campaign.
    """

    _inherit = "crm.lead"

    ds_distributor_id = fields.Many2one(
        "ds.distributor",
        string="Routed to Distributor",
        index="btree_not_null",
        copy=False,
        help="The distributor this lead is routed to; shown in their portal (My Leads).",
    )
    ds_referrer_id = fields.Many2one(
        "ds.distributor",
        string="Referring Distributor",
        compute="_compute_ds_referrer_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        help="Distributor who referred this contact; routing prefers them when eligible.",
    )
    ds_routing_rule_id = fields.Many2one(
        "ds.lead.routing.rule",
        string="Routing Rule",
        copy=False,
        readonly=True,
        ondelete="set null",
    )
    ds_routed_date = fields.Datetime(string="Routed On", copy=False, readonly=True)
    ds_accepted = fields.Boolean(
        string="Accepted by Distributor", copy=False, readonly=True
    )
    ds_accepted_date = fields.Datetime(string="Accepted On", copy=False, readonly=True)
    ds_escalation_count = fields.Integer(
        string="Escalations", copy=False, readonly=True
    )

    @api.depends("partner_id")
    def _compute_ds_referrer_id(self):
        for lead in self:
            partner = lead.partner_id.commercial_partner_id
            if (
                partner
                and "ds_referrer_id" in partner._fields
                and partner.ds_referrer_id
            ):
                lead.ds_referrer_id = partner.ds_referrer_id
            elif not lead.ds_referrer_id:
                lead.ds_referrer_id = False

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        now = fields.Datetime.now()
        for vals in vals_list:
            if vals.get("ds_distributor_id") and not vals.get("ds_routed_date"):
                vals["ds_routed_date"] = now
        leads = super().create(vals_list)
        if not self.env.context.get("ds_no_auto_route"):
            to_route = leads.filtered(
                lambda lead: not lead.ds_distributor_id and lead.active
            )
            if to_route and self.env["ds.lead.routing.rule"].sudo().search_count(
                [("company_id", "in", (to_route.company_id | self.env.company).ids)],
                limit=1,
            ):
                to_route._ds_route()
        return leads

    def write(self, vals):
        if "ds_distributor_id" in vals and "ds_routed_date" not in vals:
            vals = dict(vals)
            vals.update(
                ds_routed_date=fields.Datetime.now()
                if vals["ds_distributor_id"]
                else False,
                ds_accepted=False,
                ds_accepted_date=False,
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Routing
    # ------------------------------------------------------------------
    def action_ds_route(self):
        """Route the leads (button and API): every lead not yet accepted is
        (re)assigned by the routing rules. Returns the leads that got a distributor."""
        self.check_access("write")
        leads = self.filtered(lambda lead: lead.active and not lead.ds_accepted)
        if not leads:
            raise UserError(
                _("Only active leads not accepted by a distributor can be routed.")
            )
        return leads._ds_route()

    def _ds_route_open_counts(self, distributor_ids, exclude_leads):
        """Open (active, not won) leads per distributor: one _read_group."""
        open_counts = defaultdict(int)
        if not distributor_ids:
            return open_counts
        groups = self.sudo()._read_group(
            [
                ("ds_distributor_id", "in", list(distributor_ids)),
                ("id", "not in", exclude_leads.ids),
                ("active", "=", True),
                "|",
                ("stage_id", "=", False),
                ("stage_id.is_won", "=", False),
            ],
            ["ds_distributor_id"],
            ["__count"],
        )
        for distributor, count in groups:
            open_counts[distributor.id] = count
        return open_counts

    @api.model
    def _ds_route_assign(self, leads, leads_by_rule):
        """In-memory assignment {lead id: (distributor id, rule id)} from the
        eligible pools (one query per rule) and the open-lead counts."""
        pools = {rule: rule._get_eligible_distributor_ids() for rule in leads_by_rule}
        referrers_ok = {}
        for rule, rule_leads in leads_by_rule.items():
            referrer_ids = {
                lead.ds_referrer_id.id for lead in rule_leads if lead.ds_referrer_id
            }
            referrers_ok[rule] = (
                rule._is_distributor_eligible_sql(referrer_ids)
                if rule.prefer_referrer
                else set()
            )
        candidate_ids = set()
        for rule in leads_by_rule:
            candidate_ids.update(pools[rule], referrers_ok[rule])
        open_counts = self._ds_route_open_counts(candidate_ids, leads)
        assignment = {}
        for rule, rule_leads in leads_by_rule.items():
            capacity = rule.max_open_leads

            def has_room(distributor_id, capacity=capacity):
                return not capacity or open_counts[distributor_id] < capacity

            pool = pools[rule]
            pool_size = len(pool)
            # round robin starts after the stored pointer (pool sorted by id)
            position = 0
            if rule.last_distributor_id and pool:
                position = (
                    bisect.bisect_right(pool, rule.last_distributor_id.id) % pool_size
                )
            last_assigned = False
            for lead in rule_leads:
                chosen = False
                referrer_id = lead.ds_referrer_id.id
                if referrer_id in referrers_ok[rule] and has_room(referrer_id):
                    chosen = referrer_id
                else:
                    for step in range(pool_size):
                        candidate = pool[(position + step) % pool_size]
                        if has_room(candidate):
                            chosen = last_assigned = candidate
                            position = (position + step + 1) % pool_size
                            break
                if chosen:
                    open_counts[chosen] += 1
                    assignment[lead.id] = (chosen, rule.id)
            if last_assigned:
                rule.last_distributor_id = last_assigned
        return assignment

    def _ds_route(self):
        """Batch routing. Eligible distributors are selected in SQL once per
        rule, open-lead capacity is counted with one _read_group, and the
        assignment is written with one UPDATE."""
        Rule = self.env["ds.lead.routing.rule"].sudo()
        leads = self.filtered(lambda lead: lead.active and not lead.stage_id.is_won)
        if not leads:
            return self.browse()
        companies = leads.company_id | self.env.company
        rules = Rule.search([("company_id", "in", companies.ids)])
        if not rules:
            return self.browse()
        rules_by_company = defaultdict(list)
        for rule in rules:
            rules_by_company[rule.company_id.id].append(rule)

        # 1. lead -> first matching rule (pure Python over the few rules)
        leads_by_rule = defaultdict(list)
        for lead in leads:
            company_id = lead.company_id.id or self.env.company.id
            for rule in rules_by_company.get(company_id, []):
                if rule._match_address(lead.country_id.id, lead.state_id.id, lead.zip):
                    leads_by_rule[rule].append(lead)
                    break
        if not leads_by_rule:
            return self.browse()

        assignment = self._ds_route_assign(leads, leads_by_rule)
        if not assignment:
            return self.browse()
        # 5. one UPDATE (UTM columns untouched)
        lead_ids = list(assignment)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead l
                   SET ds_distributor_id = v.distributor_id,
                       ds_routing_rule_id = v.rule_id,
                       ds_routed_date = %(now)s,
                       ds_accepted = FALSE,
                       ds_accepted_date = NULL,
                       write_date = %(now)s,
                       write_uid = %(uid)s
                  FROM (SELECT UNNEST(%(lead_ids)s::int[]) AS lead_id,
                               UNNEST(%(distributor_ids)s::int[]) AS distributor_id,
                               UNNEST(%(rule_ids)s::int[]) AS rule_id) v
                 WHERE l.id = v.lead_id
                """,
                now=fields.Datetime.now(),
                uid=self.env.uid,
                lead_ids=lead_ids,
                distributor_ids=[assignment[lid][0] for lid in lead_ids],
                rule_ids=[assignment[lid][1] for lid in lead_ids],
            )
        )
        routed = self.browse(lead_ids)
        routed.invalidate_recordset(
            [
                "ds_distributor_id",
                "ds_routing_rule_id",
                "ds_routed_date",
                "ds_accepted",
                "ds_accepted_date",
                "write_date",
                "write_uid",
            ]
        )
        return routed

    # ------------------------------------------------------------------
    # Distributor answer
    # ------------------------------------------------------------------
    def action_ds_accept(self):
        """The routed distributor accepts the leads (portal button, as superuser after
        the controller's own check; in the backend: users who may edit the leads)."""
        self.check_access("write")
        if any(not lead.ds_distributor_id for lead in self):
            unrouted = self.filtered(lambda lead: not lead.ds_distributor_id)[:1]
            raise UserError(_("Lead %s is not routed to a distributor.", unrouted.name))
        now = fields.Datetime.now()
        self.write({"ds_accepted": True, "ds_accepted_date": now})
        self._message_log_batch(
            {
                lead.id: Markup("<p>%s</p>")
                % self.env._(
                    "Lead accepted by %s.", lead.ds_distributor_id.display_name
                )
                for lead in self
            }
        )
        return True

    def action_ds_decline(self):
        """The routed distributor declines: the lead escalates at once."""
        self.check_access("write")
        leads = self.filtered(
            lambda lead: lead.ds_distributor_id and not lead.ds_accepted
        )
        leads._ds_escalate()
        return True

    # ------------------------------------------------------------------
    # Escalation
    # ------------------------------------------------------------------
    @api.model
    def _ds_default_escalation_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "crm_direct_selling.lead_escalation_days", DEFAULT_ESCALATION_DAYS
            )
        )
        try:
            return int(value)
        except (TypeError, ValueError):
            return DEFAULT_ESCALATION_DAYS

    @api.model
    def _cron_ds_escalate_leads(self, now=None):
        """Leads routed but not accepted after the rule's escalation delay
        move to the sponsor of their distributor (up to the rule's
        ``max_escalations``), then back to the company."""
        now = now or fields.Datetime.now()
        Rule = self.env["ds.lead.routing.rule"].sudo()
        default_days = self._ds_default_escalation_days()
        delays = set(
            Rule.with_context(active_test=False).search([]).mapped("escalation_days")
        ) | {default_days}
        min_days = min(delays)
        candidates = self.sudo().search(
            [
                ("ds_distributor_id", "!=", False),
                ("ds_accepted", "=", False),
                ("ds_routed_date", "<=", now - timedelta(days=min_days)),
                ("active", "=", True),
            ]
        )
        due = candidates.filtered(
            lambda lead: (
                not lead.stage_id.is_won
                and lead.ds_routed_date
                <= now
                - timedelta(
                    days=lead.ds_routing_rule_id.escalation_days
                    if lead.ds_routing_rule_id
                    else default_days
                )
            )
        )
        if self.env.user._is_superuser():
            # the cron (OdooBot) writes the chatter notes in each company's language
            by_company = defaultdict(lambda: self.browse())
            for lead in due:
                by_company[lead.company_id or self.env.company] |= lead
            for company, leads in by_company.items():
                lang = company.partner_id.lang or self.env.lang
                leads.with_context(lang=lang)._ds_escalate(now=now)
        else:
            due._ds_escalate(now=now)
        return due

    def _ds_escalate(self, now=None):
        now = now or fields.Datetime.now()
        to_sponsor = defaultdict(lambda: self.browse())
        to_company = self.browse()
        for lead in self:
            max_escalations = (
                lead.ds_routing_rule_id.max_escalations
                if lead.ds_routing_rule_id
                else 1
            )
            sponsor = lead.ds_distributor_id.sponsor_id
            if (
                sponsor
                and sponsor.state == "active"
                and lead.ds_escalation_count < max_escalations
            ):
                to_sponsor[sponsor] |= lead
            else:
                to_company |= lead
        bodies = {}
        for sponsor, leads in to_sponsor.items():
            for lead in leads:
                bodies[lead.id] = Markup("<p>%s</p>") % _(
                    "Not accepted by %(old)s in time: lead escalated to their sponsor %(new)s.",
                    old=lead.ds_distributor_id.display_name,
                    new=sponsor.display_name,
                )
            for count, group in _group_by(
                leads, lambda lead: lead.ds_escalation_count
            ).items():
                group.sudo().write(
                    {
                        "ds_distributor_id": sponsor.id,
                        "ds_routed_date": now,
                        "ds_accepted": False,
                        "ds_escalation_count": count + 1,
                    }
                )
        if to_company:
            for lead in to_company:
                bodies[lead.id] = Markup("<p>%s</p>") % _(
                    "Not accepted by %s in time: lead returned to the company.",
                    lead.ds_distributor_id.display_name,
                )
            activity_type = self.env.ref(
                "mail.mail_activity_data_todo", raise_if_not_found=False
            )
            model_id = self.env["ir.model"]._get_id("crm.lead")
            activity_vals = []
            for lead in to_company:
                # the salesperson, the routing rule's user, else the company's responsible
                # (Settings); never OdooBot, who runs the cron
                user = next(
                    (
                        candidate
                        for candidate in (
                            lead.user_id,
                            lead.ds_routing_rule_id.user_id,
                            (
                                lead.company_id or self.env.company
                            )._ds_responsible_user(),
                            self.env.user,
                        )
                        if candidate
                        and candidate.active
                        and not candidate._is_superuser()
                    ),
                    None,
                )
                if not user:
                    continue
                activity_vals.append(
                    {
                        "res_model_id": model_id,
                        "res_id": lead.id,
                        "activity_type_id": activity_type.id
                        if activity_type
                        else False,
                        "summary": _("Lead returned by the distributor network"),
                        "user_id": user.id,
                        "date_deadline": fields.Date.context_today(self),
                    }
                )
            for count, group in _group_by(
                to_company, lambda lead: lead.ds_escalation_count
            ).items():
                group.sudo().write(
                    {
                        "ds_distributor_id": False,
                        "ds_routed_date": False,
                        "ds_accepted": False,
                        "ds_escalation_count": count + 1,
                    }
                )
            self.env["mail.activity"].sudo().create(activity_vals)
        if bodies:
            self.browse(list(bodies)).sudo()._message_log_batch(bodies)
        return True


def _group_by(records, key):
    groups = defaultdict(lambda: records.browse())
    for record in records:
        groups[key(record)] |= record
    return groups
