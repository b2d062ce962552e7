/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ds_portal_placement_tour", {
    url: "/my/dashboard",
    steps: () => [
        {
            content: "Open the placement tree from the leader navigation",
            trigger: '.o_ds_leader_nav a[href="/my/placement"]',
            run: "click",
        },
        {
            content: "The waiting recruit is offered for placement",
            trigger: '.o_ds_place_recruit:contains("Frontline Finn")',
        },
        {
            content: "Open the leader's placement children (level 1)",
            trigger: ".o_ds_placement_tree > ul > li > div .o_ds_ptree_toggle",
            run: "click",
        },
        {
            content: "Level 1 shows Fay in the left slot with her leg volumes",
            trigger: '.o_ds_ptree_node:has(.o_ds_ptree_member:contains("Frontline Fay")) .o_ds_ptree_legs',
        },
        {
            content: "Open Fay's placement children (level 2)",
            trigger: '.o_ds_ptree_node:has(> div .o_ds_ptree_member:contains("Frontline Fay")) > div .o_ds_ptree_toggle',
            run: "click",
        },
        {
            content: "Level 2 is loaded",
            trigger: '.o_ds_ptree_member:contains("Deep Dan")',
        },
        {
            content: "Choose Fay's free right slot",
            trigger: '.o_ds_ptree_slot[data-label="Frontline Fay · Right slot"]',
            run: "click",
        },
        {
            trigger: '.o_ds_place_target:contains("Frontline Fay")',
        },
        {
            content: "Place the recruit",
            trigger: ".o_ds_place_submit:enabled",
            run: "click",
        },
        {
            content: "Placed: the holding tank is empty",
            trigger: ".o_ds_placement_done",
        },
        {
            trigger: ".o_ds_placement_no_waiting",
        },
    ],
});
