import { registry } from "@web/core/registry";

// The placement hierarchy view really renders the placement tree (parent field
// placement_parent_id), shows each node's slot and leg volumes, and unfolds a leg on demand.
registry.category("web_tour.tours").add("ds_placement_tour", {
    url: "/odoo/action-crm_direct_selling.action_ds_placement_tree",
    steps: () => [
        {
            content: "the root of the placement tree is shown",
            trigger: '.o_hierarchy_node:contains("Place Root")',
        },
        {
            content: "with its left and right legs",
            trigger: '.o_hierarchy_node:contains("Place Right")',
        },
        {
            content: "each node shows its leg volumes",
            trigger: '.o_hierarchy_node:contains("Place Root") .o_ds_placement_legs',
        },
        {
            content: "unfold the left leg",
            trigger: '.o_hierarchy_node:contains("Place Left") .o_hierarchy_node_button',
            run: "click",
        },
        {
            content: "the spillover recruit placed under the left leg appears",
            trigger: '.o_hierarchy_node:contains("Place Spill")',
        },
    ],
});
