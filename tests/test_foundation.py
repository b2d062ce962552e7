"""Cross-addon checks: the three addons install together, the app menu and its
actions load for each group, and people outside the groups cannot read the data."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

ADDONS = (
    "crm_direct_selling",
    "crm_direct_selling_analytics",
    "crm_direct_selling_portal",
)
SECTIONS = ("network", "bonuses", "marketing", "reporting", "config")


class FoundationCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.group_user = cls.env.ref("crm_direct_selling.group_ds_user")
        cls.group_manager = cls.env.ref("crm_direct_selling.group_ds_manager")
        cls.ds_user = new_test_user(
            cls.env, "ds_user", groups="crm_direct_selling.group_ds_user"
        )
        cls.ds_manager = new_test_user(
            cls.env, "ds_manager", groups="crm_direct_selling.group_ds_manager"
        )
        cls.outsider = new_test_user(cls.env, "ds_outsider", groups="base.group_user")
        cls.root_menu = cls.env.ref("crm_direct_selling.menu_ds_root")

    def _visible_menus(self, user):
        Menu = self.env["ir.ui.menu"].with_user(user)
        visible = Menu.browse(Menu._visible_menu_ids())
        return visible.filtered(
            lambda m: m.parent_path.startswith(self.root_menu.parent_path)
        )


@tagged("post_install", "-at_install")
class TestFoundation(FoundationCase):
    def test_addons_installed(self):
        modules = self.env["ir.module.module"].search([("name", "in", ADDONS)])
        self.assertEqual(
            sorted(modules.mapped("name")), sorted(ADDONS), "all three addons exist"
        )
        self.assertEqual(set(modules.mapped("state")), {"installed"})

    def test_group_chain(self):
        self.assertIn(self.group_user, self.group_manager.implied_ids)
        self.assertIn(self.env.ref("base.group_user"), self.group_user.implied_ids)
        # distributors are customers too: back-office users work with their orders
        self.assertIn(
            self.env.ref("sales_team.group_sale_salesman"), self.group_user.implied_ids
        )
        self.assertEqual(self.group_user.category_id, self.group_manager.category_id)
        self.assertEqual(self.group_user.category_id.name, "Direct Selling")
        self.assertTrue(self.ds_manager.has_group("crm_direct_selling.group_ds_user"))
        self.assertFalse(self.ds_user.has_group("crm_direct_selling.group_ds_manager"))

    def test_sections_visible_per_group(self):
        sections = {
            name: self.env.ref(f"crm_direct_selling.menu_ds_{name}")
            for name in SECTIONS
        }
        manager_menus = self._visible_menus(self.ds_manager)
        for name, menu in sections.items():
            self.assertIn(menu, manager_menus, f"section {name} shown to managers")
        user_menus = self._visible_menus(self.ds_user)
        for name, menu in sections.items():
            if name == "config":
                self.assertNotIn(menu, user_menus, "configuration is manager-only")
            else:
                self.assertIn(menu, user_menus, f"section {name} shown to users")
        self.assertFalse(self._visible_menus(self.outsider))

    def test_actions_load_for_each_group(self):
        """Every window action under the app opens for the groups that see it:
        its views render and the fields they show can be read."""
        for user in (self.ds_user, self.ds_manager):
            menus = self._visible_menus(user).filtered("action")
            self.assertTrue(menus, f"{user.login} sees actions")
            for menu in menus:
                with self.subTest(user=user.login, menu=menu.complete_name):
                    # the web client loads actions as sudo, then checks their groups
                    action = menu.action.sudo()
                    self.assertFalse(
                        action.groups_id and not (action.groups_id & user.groups_id),
                        f"{user.login} may open {action.name}",
                    )
                    if action._name != "ir.actions.act_window":
                        continue
                    Model = self.env[action.res_model].with_user(user)
                    views = [(v.id, v.view_mode) for v in action.view_ids] or [
                        (False, mode) for mode in action.view_mode.split(",")
                    ]
                    if "search" not in {mode for _id, mode in views}:
                        views.append((action.search_view_id.id, "search"))
                    result = Model.get_views(views)
                    fields = [
                        name
                        for name in result["models"][action.res_model]["fields"]
                        if name in Model._fields
                    ]
                    Model.search_fetch([], fields, limit=5)

    def test_outsider_cannot_read_models(self):
        models = [
            name
            for name, model in self.env.registry.items()
            if name.startswith("ds.") and not model._abstract and not model._transient
        ]
        self.assertTrue(models, "the addons define ds.* models")
        for name in models:
            with self.subTest(model=name), self.assertRaises(AccessError):
                self.env[name].with_user(self.outsider).check_access("read")


@tagged("post_install", "-at_install")
class TestFoundationHttp(HttpCase):
    def test_login_opens_app(self):
        self.authenticate("admin", "admin")
        response = self.url_open("/odoo")
        self.assertEqual(response.status_code, 200)
        menus = self.url_open("/web/webclient/load_menus/1").json()
        root = next(
            (
                m
                for m in menus.values()
                if m.get("xmlid") == "crm_direct_selling.menu_ds_root"
            ),
            None,
        )
        self.assertTrue(root, "the Direct Selling app is in the menu")
        self.assertEqual(root["name"], "Direct Selling")

    def test_tour_app_menu(self):
        """Real headless Chromium clicks through every section of the app."""
        self.start_tour("/odoo", "ds_app_menu_tour", login="admin")
