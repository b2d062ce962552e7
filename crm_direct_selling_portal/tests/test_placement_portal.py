"""The leader's placement subtree in the portal: the page, the lazy children route, the
holding-tank placement, each tried with foreign ids, over HTTP; the public methods over
JSON-RPC as a portal leader; and a Chromium tour of the binary tree."""

from odoo.tests import tagged

from odoo.addons.crm_direct_selling.tests.rpc import call_kw

from .common import DsPortalCommon


@tagged("post_install", "-at_install")
class TestPlacementPortal(DsPortalCommon):
    """Placement tree (binary plan, manual rule, 30 holding days):

    Uma (root)
    ├── 1 Lana            <- the portal leader
    │   └── 1 Fay
    │       └── 1 Dan
    └── 2 Sam
        └── 1 Bob
    Waiting: Finn (Lana's recruit), Dee (Dan's recruit)
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.placement_plan = cls.env["ds.plan"].create(
            {
                "name": "DSP Binary",
                "placement_rule": "manual",
                "placement_type": "binary",
                "holding_days": 30,
            }
        )
        cls.company.ds_placement_plan_id = cls.placement_plan
        cls.uma.action_place(False, reason="root")
        for dist, parent, slot in (
            (cls.lana, cls.uma, 1),
            (cls.sam, cls.uma, 2),
            (cls.fay, cls.lana, 1),
            (cls.dan, cls.fay, 1),
            (cls.bob, cls.sam, 1),
        ):
            dist.action_place(parent, slot=slot, reason="setup")

    def _children(self, node_id):
        return self.url_open(f"/my/placement/children?node_id={node_id}")

    def _place(self, recruit, parent, slot):
        return self.url_open(
            "/my/placement/place",
            data={
                "recruit_id": recruit,
                "parent_id": parent,
                "slot": slot,
                "csrf_token": self.csrf_token(),
            },
            allow_redirects=False,
        )

    def csrf_token(self):
        # the form (and its token) is there while a recruit waits: fetched once per session
        if getattr(self, "_csrf", None):
            return self._csrf
        page = self.url_open("/my/placement")
        self.assertEqual(page.status_code, 200)
        marker = 'name="csrf_token" value="'
        text = page.text
        self._csrf = text[text.index(marker) + len(marker) :].split('"', 1)[0]
        return self._csrf

    def test_page_and_children(self):
        self.authenticate("dsp_lana", "dsp_lana")
        page = self.url_open("/my/placement")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Frontline Finn", page.text)  # her waiting recruit
        self.assertNotIn("Deeper Dee", page.text)  # Dan's recruit, not hers
        self.assertNotIn("Branch Bob", page.text)
        data = self._children(self.lana.id).json()
        self.assertEqual(
            [(c["name"], c["slot"], c["open_slots"]) for c in data["children"]],
            [("Frontline Fay", 1, [2])],
        )
        data = self._children(self.fay.id).json()
        self.assertEqual([c["name"] for c in data["children"]], ["Deep Dan"])
        # foreign nodes: the upline, the sibling branch, unknown and malformed ids
        for node in (self.uma.id, self.sam.id, self.bob.id, 999999, "x"):
            self.assertEqual(self._children(node).status_code, 404, node)

    def test_place_own_recruit_and_foreign_ids(self):
        self.authenticate("dsp_lana", "dsp_lana")
        self.csrf_token()
        # foreign recruit (Sam's Bob, Dan's Dee), parent outside her subtree, taken slot
        for recruit, parent, slot in (
            (self.bob.id, self.fay.id, 2),
            (self.dee.id, self.fay.id, 2),
            (self.finn.id, self.sam.id, 2),
            (self.finn.id, self.uma.id, 1),
            (self.finn.id, "x", 1),
        ):
            response = self._place(recruit, parent, slot)
            self.assertEqual(response.status_code, 404, (recruit, parent))
        response = self._place(self.finn.id, self.fay.id, 1)
        self.assertEqual(response.status_code, 303)
        self.assertIn("error=taken", response.headers["Location"])
        self.finn.invalidate_recordset()
        self.assertFalse(self.finn.placement_path)
        response = self._place(self.finn.id, self.fay.id, 2)
        self.assertEqual(response.status_code, 303)
        self.assertIn("placed=", response.headers["Location"])
        self.finn.invalidate_recordset()
        self.assertEqual(
            (self.finn.placement_parent_id, self.finn.placement_slot), (self.fay, 2)
        )
        change = self.env["ds.sponsor.change"].search(
            [("distributor_id", "=", self.finn.id), ("tree", "=", "placement")]
        )
        self.assertEqual(change.user_id, self.user_lana)
        # placed now: a second placement is not hers to make
        self.assertEqual(self._place(self.finn.id, self.lana.id, 2).status_code, 404)

    def test_no_placement_plan_no_pages(self):
        self.company.ds_placement_plan_id = False
        self.authenticate("dsp_lana", "dsp_lana")
        self.assertEqual(self.url_open("/my/placement").status_code, 404)
        self.assertEqual(self._children(self.lana.id).status_code, 404)
        self.assertNotIn('href="/my/placement"', self.url_open("/my/network").text)

    def test_public_methods_over_rpc(self):
        """A portal leader cannot place over JSON-RPC, nor call the private helpers, nor
        list the placement children of a record outside her subtree."""
        answer = call_kw(
            self,
            "dsp_lana",
            "ds.distributor",
            "action_place",
            [[self.finn.id], self.fay.id],
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        answer = call_kw(
            self,
            "dsp_lana",
            "ds.distributor",
            "_ds_sponsor_place",
            [[self.lana.id], self.finn.id, self.fay.id, 2],
        )
        self.assertTrue(answer.get("error"))
        answer = call_kw(
            self,
            "dsp_lana",
            "ds.distributor",
            "get_placement_children",
            [[self.sam.id]],
        )
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        answer = call_kw(
            self,
            "dsp_lana",
            "ds.distributor",
            "get_placement_children",
            [[self.fay.id]],
        )
        # Fay is in Lana's subtree, but portal users read other distributors only through
        # the portal pages (the partner rules of _inherits): refused too
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.AccessError")
        answer = call_kw(
            self,
            "dsp_lana",
            "ds.distributor",
            "get_placement_children",
            [[self.lana.id]],
        )
        self.assertIn(str(self.fay.id), answer["result"])
        self.finn.invalidate_recordset()
        self.assertFalse(self.finn.placement_path)

    def test_placement_tour(self):
        self.start_tour("/my/dashboard", "ds_portal_placement_tour", login="dsp_lana")
        self.finn.invalidate_recordset()
        self.assertEqual(
            (self.finn.placement_parent_id, self.finn.placement_slot), (self.fay, 2)
        )
