from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestGenealogyTour(HttpCase):
    def test_genealogy_hierarchy_view(self):
        Distributor = self.env["ds.distributor"]
        root = Distributor.create({"name": "Tour Root"})
        leg_a, leg_b = Distributor.create(
            [
                {"name": "Tour Leg A", "sponsor_id": root.id},
                {"name": "Tour Leg B", "sponsor_id": root.id},
            ]
        )
        grandchild = Distributor.create(
            {"name": "Tour Grandchild", "sponsor_id": leg_a.id}
        )
        self.assertEqual(grandchild.get_upline(), leg_a | root)
        self.assertEqual(root.frontline_ids, leg_a | leg_b)
        self.start_tour("/odoo", "ds_genealogy_tour", login="admin")
