from odoo import _, api, fields, models


class SlideSlide(models.Model):
    _inherit = "slide.slide"

    ds_rank_locked = fields.Boolean(
        string="Locked by Rank",
        compute="_compute_ds_rank_locked",
        search="_search_ds_rank_locked",
        help="The course of this content requires a rank the current user has not reached.",
    )

    @api.depends("channel_id.ds_min_rank_id")
    @api.depends_context("uid")
    def _compute_ds_rank_locked(self):
        locked = set(self.env["slide.channel"]._ds_locked_channel_ids())
        for slide in self:
            slide.ds_rank_locked = slide.channel_id.id in locked

    def _search_ds_rank_locked(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Operation not supported"))
        positive = (operator == "=") == value
        locked = self.env["slide.channel"]._ds_locked_channel_ids()
        if not locked:
            return [(0, "=", 1)] if positive else [(1, "=", 1)]
        return [("channel_id", "in" if positive else "not in", locked)]
