import { registry } from "@web/core/registry";

// The genealogy hierarchy view really renders the sponsor tree (a wrong parent
// field installs fine and only breaks here) and unfolds a leg on demand.
registry.category("web_tour.tours").add("ds_genealogy_tour", {
    url: "/odoo/action-crm_direct_selling.action_ds_distributor_genealogy",
    steps: () => [
        {
            content: "the root of the tree is shown",
            trigger: '.o_hierarchy_node:contains("Tour Root")',
        },
        {
            content: "with its frontline",
            trigger: '.o_hierarchy_node:contains("Tour Leg B")',
        },
        {
            content: "unfold leg A",
            trigger: '.o_hierarchy_node:contains("Tour Leg A") .o_hierarchy_node_button',
            run: "click",
        },
        {
            content: "leg A's recruit appears",
            trigger: '.o_hierarchy_node:contains("Tour Grandchild")',
        },
    ],
});
