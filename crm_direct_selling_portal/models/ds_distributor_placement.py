from odoo import _, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class DsDistributor(models.Model):
    _inherit = "ds.distributor"

    def _ds_portal_placement_ok(self):
        """True when this leader (sudo record) has a placement tree to show: their company
        runs a placement plan and they are placed in it."""
        self.ensure_one()
        leader = self.sudo()
        return bool(leader.company_id._ds_placement_plan() and leader.placement_path)

    def _ds_check_in_placement(self, distributor_id, include_self=False):
        """The sudo record of ``distributor_id`` when it is in this leader's placement subtree
        (or the leader, with ``include_self``), else AccessError. Never loads the subtree."""
        self.ensure_one()
        leader = self.sudo()
        try:
            distributor_id = int(distributor_id)
        except (TypeError, ValueError):
            raise AccessError(
                _("This distributor is not in your placement tree.")
            ) from None
        if distributor_id == leader.id and include_self and leader.placement_path:
            return leader
        target = leader.browse(distributor_id).exists()
        if (
            not target
            or target == leader
            or not leader.placement_path
            or target.company_id != leader.company_id
            or not (target.placement_path or "").startswith(leader.placement_path)
        ):
            raise AccessError(_("This distributor is not in your placement tree."))
        return target

    def _ds_placement_children_data(self, node):
        """One level of the placement tree under ``node`` (checked to be in this leader's
        placement subtree): a list of dicts by slot, with the children's leg volumes of the
        current period and their free slots."""
        self.ensure_one()
        leader = self.sudo()
        plan = leader.company_id._ds_placement_plan()
        width = plan._ds_placement_width()
        rows = self.env.execute_query(
            SQL(
                """SELECT d.id, d.placement_slot,
                          ARRAY(SELECT c.placement_slot FROM ds_distributor c
                                 WHERE c.placement_parent_id = d.id) AS taken
                     FROM ds_distributor d
                    WHERE d.placement_parent_id = %s
                 ORDER BY d.placement_slot""",
                node.id,
            )
        )
        children = leader.browse([r[0] for r in rows])
        current, _previous = leader._ds_portal_periods()
        legs = (
            leader._ds_placement_leg_volumes(children.ids, current) if current else {}
        )
        data = []
        for child, (_cid, slot, taken) in zip(children, rows, strict=True):
            vols = legs.get(child.id, {})
            data.append(
                {
                    "id": child.id,
                    "name": child.name,
                    "code": child.code or "",
                    "slot": slot,
                    "child_count": len(taken),
                    "open_slots": [s for s in range(1, width + 1) if s not in taken],
                    "left_volume": vols.get(1, 0.0),
                    "right_volume": sum(v for s, v in vols.items() if s != 1),
                    "is_active": child.state == "active",
                }
            )
        return data

    def _ds_waiting_recruits(self):
        """This leader's own recruits waiting in the holding tank (sudo)."""
        self.ensure_one()
        return (
            self.sudo()
            .search(
                [
                    ("sponsor_id", "=", self.id),
                    ("placement_path", "=", False),
                    ("state", "!=", "terminated"),
                ],
                order="enrollment_date, id",
            )
            .filtered("placement_waiting")
        )
