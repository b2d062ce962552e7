"""My Training (``/my/training``): the logged-in user's own courses with their completion,
the onboarding courses first, and the rank-gated courses they cannot open yet, locked with the
rank needed.

Courses are read in the user's own environment: website_slides' record rules decide which
courses they see (published, and public / signed-in or theirs), its per-user fields
(``is_member``, ``completion``) and our ``ds_rank_locked`` are computed for them."""

from odoo.http import request, route

from odoo.addons.portal.controllers.portal import CustomerPortal


class DsTrainingPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "ds_training_count" in counters:
            values["ds_training_count"] = request.env["slide.channel"].search_count(
                [("is_member", "=", True)]
            )
        return values

    def _ds_onboarding_channel_ids(self):
        """Ids of the onboarding courses of the user's company (their distributor's
        company, else the website's). Configuration ids only (sudo: the company's
        course setting is not readable in the portal); the courses are then searched
        as the user, so their access rules still apply."""
        distributor = request.env["ds.distributor"]._ds_portal_current()
        company = distributor.company_id if distributor else request.env.company
        return company.sudo().ds_onboarding_channel_ids.ids

    def _ds_training_courses(self):
        Channel = request.env["slide.channel"]
        onboarding_ids = self._ds_onboarding_channel_ids()
        locked = Channel.search([("ds_rank_locked", "=", True)])
        onboarding = (
            Channel.search([("id", "in", onboarding_ids)])
            if onboarding_ids
            else Channel
        )
        mine = Channel.search(
            ["|", ("is_member", "=", True), ("is_member_invited", "=", True)]
        )
        courses = []
        for channel in (onboarding | mine) - locked:
            if channel.completed:
                status = "completed"
            elif channel.is_member_invited:
                status = "invited"
            elif not channel.is_member:
                status = "not_joined"
            elif channel.completion:
                status = "ongoing"
            else:
                status = "joined"
            courses.append(
                {
                    "channel": channel,
                    "onboarding": channel.id in onboarding_ids,
                    "status": status,
                    "completion": channel.completion if channel.is_member else 0,
                }
            )
        return courses, locked

    @route("/my/training", type="http", auth="user", website=True, readonly=True)
    def ds_portal_training(self, **kw):
        courses, locked = self._ds_training_courses()
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_training",
                "courses": courses,
                "locked": locked,
                "completed_count": sum(c["status"] == "completed" for c in courses),
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_training", values)
