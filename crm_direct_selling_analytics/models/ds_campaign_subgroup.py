"""Uplift by segment (issue 16): the revenue uplift of a campaign within each paid-as rank
and each RFM band its members had at assignment (pre-treatment, so the split is fair), with
p-values adjusted over all the subgroups tested, so that one band "winning" among many is
not reported as a finding by chance."""

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import sequential, stats
from .ds_partner_rfm import RFM_BANDS

DIMENSIONS = [("rank", "Paid-as rank"), ("rfm_band", "RFM band")]


class DsCampaignSubgroup(models.Model):
    _name = "ds.campaign.subgroup"
    _description = "Campaign Uplift by Segment"
    _order = "campaign_id, dimension, sequence, id"

    campaign_id = fields.Many2one(
        "ds.campaign", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id")
    currency_id = fields.Many2one(related="campaign_id.currency_id")
    dimension = fields.Selection(DIMENSIONS, required=True)
    sequence = fields.Integer()
    rank_id = fields.Many2one("ds.rank", ondelete="set null")
    rfm_band = fields.Selection(RFM_BANDS, string="RFM Band")
    name = fields.Char(string="Segment", required=True)
    target_count = fields.Integer(aggregator="sum")
    control_count = fields.Integer(aggregator="sum")
    revenue_per_member_target = fields.Monetary(aggregator=None)
    revenue_per_member_control = fields.Monetary(aggregator=None)
    uplift_revenue_per_member = fields.Monetary(
        string="Uplift / Member", aggregator=None
    )
    uplift_ci_low = fields.Monetary(string="Uplift CI Low", aggregator=None)
    uplift_ci_high = fields.Monetary(string="Uplift CI High", aggregator=None)
    p_value = fields.Float(string="p-value", aggregator=None, digits=(16, 4))
    p_value_adjusted = fields.Float(
        string="p-value (adjusted)",
        aggregator=None,
        digits=(16, 4),
        help="Adjusted over every segment tested in this campaign (both dimensions), "
        "with the campaign's multiple-testing correction.",
    )
    tested = fields.Boolean(
        help="At least two members in each group: tested and counted in the correction."
    )
    significant = fields.Boolean(
        help="Adjusted p-value below 5%: the uplift in this segment is a finding."
    )


class DsCampaign(models.Model):
    _inherit = "ds.campaign"

    subgroup_ids = fields.One2many(
        "ds.campaign.subgroup", "campaign_id", string="Uplift by Segment", readonly=True
    )

    def action_measure(self):
        res = super().action_measure()
        for campaign in self:
            campaign.sudo()._ds_measure_subgroups()
        return res

    @api.model
    def _ds_subgroup_rows(self, campaign_id):
        """(dimension, key, group, n, sum, sum of squares) of the window revenue, from the
        members' stored revenue (written by the measurement), in one statement."""
        return self.env.execute_query(
            SQL(
                """
                SELECT CASE WHEN GROUPING(cm.rank_id) = 0 THEN 'rank' ELSE 'rfm_band' END,
                       COALESCE(cm.rank_id::varchar, cm.rfm_band, ''),
                       cm."group", COUNT(*), SUM(COALESCE(cm.revenue, 0))::float8,
                       SUM(COALESCE(cm.revenue, 0) * COALESCE(cm.revenue, 0))::float8
                  FROM ds_campaign_member cm
                 WHERE cm.campaign_id = %s
              GROUP BY GROUPING SETS ((cm.rank_id, cm."group"), (cm.rfm_band, cm."group"))
                """,
                campaign_id,
            )
        )

    def _ds_measure_subgroups(self):
        self.ensure_one()
        self.env["ds.campaign.member"].flush_model()
        cells = {}
        for dimension, key, group, n, total, squares in self._ds_subgroup_rows(self.id):
            cells.setdefault((dimension, key), {})[group] = (int(n), total, squares)
        ranks = {
            str(rank.id): rank
            for rank in self.env["ds.rank"].with_context(active_test=False).search([])
        }
        bands = dict(
            self.env["ds.partner.rfm"]
            ._fields["rfm_band"]
            ._description_selection(self.env)
        )
        vals_list = []
        for (dimension, key), groups in cells.items():
            n_t, s_t, ss_t = groups.get("target", (0, 0.0, 0.0))
            n_c, s_c, ss_c = groups.get("control", (0, 0.0, 0.0))
            mean_t, var_t = stats.mean_var(n_t, s_t, ss_t)
            mean_c, var_c = stats.mean_var(n_c, s_c, ss_c)
            test = stats.welch(mean_t, var_t, n_t, mean_c, var_c, n_c)
            tested = n_t >= 2 and n_c >= 2
            if dimension == "rank":
                rank = ranks.get(key)
                name = rank.name if rank else self.env._("No rank (customers)")
                sequence = rank.sequence if rank else -1
                extra = {"rank_id": rank.id if rank else False}
            else:
                name = bands.get(key) or self.env._("No RFM band")
                sequence = 0
                extra = {"rfm_band": key or False}
            vals_list.append(
                {
                    "campaign_id": self.id,
                    "dimension": dimension,
                    "sequence": sequence,
                    "name": name,
                    "target_count": n_t,
                    "control_count": n_c,
                    "revenue_per_member_target": mean_t,
                    "revenue_per_member_control": mean_c,
                    "uplift_revenue_per_member": test["diff"],
                    "uplift_ci_low": test["low"] if tested else 0.0,
                    "uplift_ci_high": test["high"] if tested else 0.0,
                    "p_value": test["p_value"] if tested else 1.0,
                    "tested": tested,
                    **extra,
                }
            )
        family = [vals for vals in vals_list if vals["tested"]]
        adjust = (
            sequential.benjamini_hochberg
            if self.multiple_testing == "bh"
            else sequential.holm
        )
        for vals, adjusted in zip(
            family, adjust([vals["p_value"] for vals in family]), strict=True
        ):
            vals["p_value_adjusted"] = adjusted
            vals["significant"] = adjusted < sequential.ALPHA
        for vals in vals_list:
            vals.setdefault("p_value_adjusted", 1.0)
        self.subgroup_ids.unlink()
        self.env["ds.campaign.subgroup"].create(vals_list)
