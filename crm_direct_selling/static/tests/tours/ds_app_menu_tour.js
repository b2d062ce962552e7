import { registry } from "@web/core/registry";

const sections = ["network", "bonuses", "marketing", "reporting", "config"];

function openSection(name) {
    return [
        {
            content: `open the ${name} section`,
            trigger: `.o_menu_sections [data-menu-xmlid="crm_direct_selling.menu_ds_${name}"]`,
            run: "click",
        },
        {
            content: `open the first entry of ${name}`,
            trigger: ".o-dropdown--menu .dropdown-item[data-menu-xmlid]",
            run: "click",
        },
        {
            content: `the ${name} entry shows a view`,
            trigger: ".o_action_manager .o_view_controller .o_control_panel",
        },
    ];
}

registry.category("web_tour.tours").add("ds_app_menu_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "open Direct Selling",
            trigger: '.o_app[data-menu-xmlid="crm_direct_selling.menu_ds_root"]',
            run: "click",
        },
        {
            content: "the app is open",
            trigger: '.o_menu_brand:contains("Direct Selling")',
        },
        ...sections.flatMap(openSection),
    ],
});
