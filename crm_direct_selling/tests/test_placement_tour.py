from odoo import Command
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestPlacementTour(HttpCase):
    def test_placement_hierarchy_view(self):
        plan = self.env["ds.plan"].create(
            {"name": "Tour Binary", "placement_rule": "first_open", "holding_days": 0}
        )
        self.env.company.ds_placement_plan_id = plan
        self.env.ref("base.user_admin").groups_id = [
            Command.link(self.env.ref("crm_direct_selling.group_ds_placement").id)
        ]
        Distributor = self.env["ds.distributor"]
        root = Distributor.create({"name": "Place Root"})
        left = Distributor.create({"name": "Place Left", "sponsor_id": root.id})
        right = Distributor.create({"name": "Place Right", "sponsor_id": root.id})
        spill = Distributor.create({"name": "Place Spill", "sponsor_id": root.id})
        self.assertEqual(
            [(d.placement_parent_id, d.placement_slot) for d in (left, right, spill)],
            [(root, 1), (root, 2), (left, 1)],
        )
        self.start_tour("/odoo", "ds_placement_tour", login="admin")
