"""Campaigns looked at while they run: an always-valid interval for the revenue uplift
and p-values adjusted for the several metrics a campaign reports (issue 16, "know early
and honestly"). The statistics are in ``tools/sequential.py``."""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..tools import sequential, stats

MULTIPLE_TESTING = [
    ("holm", "Holm (family-wise error)"),
    ("bh", "Benjamini-Hochberg (false discovery rate)"),
]


class DsCampaign(models.Model):
    _inherit = "ds.campaign"

    multiple_testing = fields.Selection(
        MULTIPLE_TESTING,
        string="Multiple-Testing Correction",
        default="holm",
        required=True,
        help="The campaign reports four metrics (revenue, response, PV, orders); each "
        "p-value is adjusted for the others, so one of four winning by chance is not "
        "reported as a result.",
    )
    sequential_v0 = fields.Float(
        aggregator=None,
        string="Sequential Tuning (v0)",
        readonly=True,
        copy=False,
        help="Mixing variance of the always-valid interval, fixed at the first look from "
        "the pre-period (never from what the looks show).",
    )
    look_count = fields.Integer(
        aggregator=None,
        string="Looks",
        readonly=True,
        copy=False,
        help="How many times it was measured.",
    )
    sequential_ci_low = fields.Float(
        aggregator=None,
        string="Always-Valid CI Low",
        readonly=True,
        copy=False,
        help="Revenue uplift per member: lower bound of the 95% interval that stays valid "
        "however often the campaign is looked at while it runs.",
    )
    sequential_ci_high = fields.Float(
        aggregator=None, string="Always-Valid CI High", readonly=True, copy=False
    )
    p_value_adjusted = fields.Float(
        aggregator=None,
        string="Revenue p-value (adjusted)",
        readonly=True,
        copy=False,
        help="The revenue p-value adjusted for the four metrics measured.",
    )
    response_p_value_adjusted = fields.Float(
        aggregator=None, string="Response p-value (adjusted)", readonly=True, copy=False
    )
    pv_p_value_adjusted = fields.Float(
        aggregator=None, string="PV p-value (adjusted)", readonly=True, copy=False
    )
    orders_p_value_adjusted = fields.Float(
        aggregator=None, string="Orders p-value (adjusted)", readonly=True, copy=False
    )
    verdict = fields.Selection(
        selection_add=[("early", "Not proven yet")],
        ondelete={"early": "set default"},
    )

    def write(self, vals):
        if "multiple_testing" in vals and self.filtered(
            lambda c: (
                c.state not in ("draft", "assigned")
                and c.multiple_testing != vals["multiple_testing"]
            )
        ):
            raise UserError(
                self.env._(
                    "The multiple-testing correction is chosen before launch: changing it "
                    "once results can be seen would let the choice follow the results."
                )
            )
        return super().write(vals)

    def _measure_aggregates(self):
        agg = super()._measure_aggregates()
        # kept for this transaction: _verdict() derives the sequential figures from them
        self.env.cr.cache.setdefault("ds_campaign_aggregates", {})[self.id] = agg
        return agg

    def _ds_window_open(self):
        """Still collecting: running and its measurement window not over."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        return self.state in ("running", "done") and (
            not self.date_end or today < self.date_end
        )

    def _ds_sequential_values(self, v):
        """Always-valid interval of the revenue uplift and adjusted p-values, from the
        aggregates of this measurement."""
        self.ensure_one()
        agg = self.env.cr.cache.get("ds_campaign_aggregates", {}).get(self.id)
        values = {"look_count": self.look_count + 1}
        p_values = [
            v["p_value"],
            v["response_p_value"],
            v["pv_p_value"],
            v["orders_p_value"],
        ]
        adjust = (
            sequential.holm
            if self.multiple_testing != "bh"
            else sequential.benjamini_hochberg
        )
        adjusted = adjust(p_values)
        values.update(
            p_value_adjusted=adjusted[0],
            response_p_value_adjusted=adjusted[1],
            pv_p_value_adjusted=adjusted[2],
            orders_p_value_adjusted=adjusted[3],
        )
        if not agg:
            return values
        t, c = agg["target"]["rev"], agg["control"]["rev"]
        se = self._compare(t, c, self.use_cuped)["se"]
        v0 = self.sequential_v0
        if not v0:
            # fixed once: the variance the estimate will have at the end of the window,
            # planned from the same members in the pre-period (as long as the window);
            # without any pre-period purchase, the first look's
            _m, var_t = stats.mean_var(t["n"], t["sx"], t["sxx"])
            _m, var_c = stats.mean_var(c["n"], c["sx"], c["sxx"])
            planned = (var_t / t["n"] if t["n"] else 0.0) + (
                var_c / c["n"] if c["n"] else 0.0
            )
            v0 = sequential.mixture_v0(planned or se * se)
            values["sequential_v0"] = v0
        if v0:
            low, high = sequential.interval(v["uplift_revenue_per_member"], se, v0)
            values.update(sequential_ci_low=low, sequential_ci_high=high)
        return values

    def _verdict(self, v):
        result = super()._verdict(v)
        seq = self._ds_sequential_values(v)
        result.update(seq)
        if not self._ds_window_open():
            # after the window, the planned fixed-horizon analysis applies
            return result
        # a look while the window runs: the campaign keeps running
        result["state"] = "running"
        if result.get("verdict") in ("srm", "too_small"):
            return result
        cur = self.currency_id.name or ""
        low, high = seq.get("sequential_ci_low"), seq.get("sequential_ci_high")
        figures = {
            "low": round(low, 2) if low is not None else None,
            "high": round(high, 2) if high is not None else None,
            "cur": cur,
        }
        head = None
        if low is not None and low > 0:
            verdict, head = (
                "positive",
                self.env._(
                    "Proven while running: even the always-valid interval (%(low)s to %(high)s "
                    "%(cur)s per member, safe to look at every day) is above zero.",
                    **figures,
                ),
            )
        elif high is not None and high < 0:
            verdict, head = (
                "negative",
                self.env._(
                    "Proven harmful while running: even the always-valid interval (%(low)s to "
                    "%(high)s %(cur)s per member) is below zero.",
                    **figures,
                ),
            )
        if head:
            result.update(
                verdict=verdict,
                significance="significant",
                verdict_text=head + " " + result["verdict_text"],
            )
        else:
            if low is None:
                interval = self.env._("no interval yet: no purchase in either group")
            else:
                interval = self.env._(
                    "from %(low)s to %(high)s %(cur)s per member", **figures
                )
            end = format_date(self.env, self.date_end) if self.date_end else "-"
            result.update(
                verdict="early",
                significance="not_significant",
                verdict_text=self.env._(
                    "Not proven yet (look %(look)s): the always-valid interval, %(interval)s, "
                    "still includes zero. Looking every day is safe with this interval; the "
                    "fixed 95%% interval alone would declare winners by chance. Decide when "
                    "it excludes zero or at the end of the window (%(end)s).",
                    look=seq["look_count"],
                    interval=interval,
                    end=end,
                )
                + " "
                + self.env._(
                    "So far each targeted member bought %(diff)s %(cur)s more than a control "
                    "member (fixed 95%% interval %(flow)s to %(fhigh)s, valid for the planned "
                    "end only; revenue p-value adjusted for the four metrics %(p).4f).",
                    diff=round(v["uplift_revenue_per_member"], 2),
                    cur=cur,
                    flow=round(v["uplift_ci_low"], 2),
                    fhigh=round(v["uplift_ci_high"], 2),
                    p=seq["p_value_adjusted"],
                ),
            )
        return result
