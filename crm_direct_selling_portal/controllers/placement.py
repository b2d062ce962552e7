"""The leader's own placement subtree (binary / matrix plans) in the portal, lazy by level,
and the holding tank: the sponsor places a waiting recruit into a free slot of their own
placement subtree. Every route answers 404 to a leader without a placement tree and for any
id outside the leader's placement subtree."""

from werkzeug.exceptions import NotFound

from odoo.exceptions import AccessError, ValidationError
from odoo.http import request, route

from .portal import DirectSellingPortal


class DsPlacementPortal(DirectSellingPortal):
    def _ds_placement_leader(self):
        leader = self._ds_leader()
        if not leader._ds_portal_placement_ok():
            raise NotFound()
        return leader

    @route("/my/placement", type="http", auth="user", website=True)
    def ds_portal_placement(self, error=None, placed=None, **kw):
        leader = self._ds_placement_leader()
        plan = leader.company_id._ds_placement_plan()
        width = plan._ds_placement_width()
        root = leader._ds_placement_children_data(leader)
        taken = {child["slot"] for child in root}
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "ds_placement",
                "leader": leader,
                "plan": plan,
                "width": width,
                "root_child_count": len(root),
                "root_open_slots": [s for s in range(1, width + 1) if s not in taken],
                "waiting": leader._ds_waiting_recruits(),
                "error": error if error in ("slot", "taken") else None,
                "placed": placed,
            }
        )
        return request.render("crm_direct_selling_portal.portal_my_placement", values)

    @route(
        "/my/placement/children",
        type="http",
        auth="user",
        methods=["GET"],
        readonly=True,
    )
    def ds_portal_placement_children(self, node_id=None, **kw):
        """The placement children of ``node_id`` (the leader or a member of their placement
        subtree) as JSON; 404 for any other node."""
        leader = self._ds_placement_leader()
        try:
            node = leader._ds_check_in_placement(node_id, include_self=True)
        except AccessError:
            raise NotFound() from None
        return request.make_json_response(
            {"node_id": node.id, "children": leader._ds_placement_children_data(node)}
        )

    @route(
        "/my/placement/place",
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def ds_portal_placement_place(
        self, recruit_id=None, parent_id=None, slot=None, **kw
    ):
        """Place one of the leader's own waiting recruits under ``parent_id`` (the leader or
        a member of their placement subtree) in ``slot``."""
        leader = self._ds_placement_leader()
        try:
            with request.env.cr.savepoint():
                leader._ds_sponsor_place(recruit_id, parent_id, slot)
        except AccessError:
            raise NotFound() from None
        except ValidationError as error:
            code = "taken" if "taken" in str(error) else "slot"
            return request.redirect(f"/my/placement?error={code}")
        return request.redirect(f"/my/placement?placed={int(recruit_id)}")
