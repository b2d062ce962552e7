import uuid

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    ds_rfm_window_days = fields.Integer(
        string="RFM Window (days)",
        default=365,
        help="Posted invoices of this many days back feed the RFM scores and the Pareto report.",
    )
    ds_holdout_pct = fields.Float(
        aggregator=None,
        string="Global Holdout (%)",
        default=0.0,
        help="Share of partners that no campaign ever reaches, to measure the total effect of marketing.",
    )
    ds_holdout_seed = fields.Char(
        string="Holdout Seed",
        default=lambda self: uuid.uuid4().hex[:12],
        help="Changing it draws a different global holdout.",
    )
    ds_campaign_min_group_size = fields.Integer(
        string="Minimum Group Size",
        default=100,
        help="No campaign is declared a winner (or loser) before both groups reach this size.",
    )

    ds_decision_async_threshold = fields.Integer(
        string="Background Training Threshold",
        default=20000,
        help="Decision models (uplift, lifetime value, next best products) whose data "
        "concerns at least this many partners are trained by a background job: the Train "
        "button returns at once and the form shows the progress. 0: always in the "
        "background; -1: never.",
    )

    ds_reco_job_state = fields.Selection(
        [("queued", "Queued"), ("done", "Done"), ("failed", "Failed")],
        string="Next Best Products Job",
        readonly=True,
        copy=False,
    )
    ds_reco_job_user_id = fields.Many2one("res.users", readonly=True, copy=False)
    ds_reco_job_error = fields.Text(readonly=True, copy=False)

    @api.constrains(
        "ds_holdout_pct", "ds_rfm_window_days", "ds_campaign_min_group_size"
    )
    def _check_ds_analytics_settings(self):
        for company in self:
            if not 0.0 <= company.ds_holdout_pct < 50.0:
                raise ValidationError(
                    self.env._("The global holdout must be between 0% and 50%.")
                )
            if company.ds_rfm_window_days <= 0:
                raise ValidationError(
                    self.env._("The RFM window must be at least one day.")
                )
            if company.ds_campaign_min_group_size < 2:
                raise ValidationError(
                    self.env._("The minimum group size must be at least 2.")
                )
