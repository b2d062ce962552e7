/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ds_portal_leader_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open my network from the portal home",
            trigger: '.o_portal_index_card a[href="/my/network"]',
            run: "click",
        },
        {
            content: "The downline list shows a frontline member",
            trigger: '.o_ds_network_row a:contains("Frontline Fay")',
        },
        {
            content: "Open the genealogy tree",
            trigger: '.o_ds_leader_nav a[href="/my/network/tree"]',
            run: "click",
        },
        {
            content: "Open the leader's frontline (level 1)",
            trigger: ".o_ds_genealogy_tree > ul > li > div .o_ds_tree_toggle",
            run: "click",
        },
        {
            content: "Open Fay's frontline (level 2)",
            trigger: '.o_ds_tree_toggle[data-name="Frontline Fay"]',
            run: "click",
        },
        {
            content: "Level 2 is loaded: open Deep Dan's page",
            trigger: 'a.o_ds_tree_member:contains("Deep Dan")',
            run: "click",
        },
        {
            content: "The member page shows the member and their rank",
            trigger: '.o_ds_member_name:contains("Deep Dan")',
        },
        {
            trigger: '.o_ds_member_rank:contains("DSP Bronze")',
        },
        {
            content: "Go to my volume and rank progress",
            trigger: '.o_ds_leader_nav a[href="/my/volume"]',
            run: "click",
        },
        {
            content: "Rank progress names the next rank",
            trigger: '.o_ds_next_rank:contains("DSP Gold")',
        },
        {
            content: "and what is missing",
            trigger: '.o_ds_missing:contains("missing 300.00")',
        },
        {
            content: "Go to my bonuses",
            trigger: '.o_ds_leader_nav a[href="/my/bonuses"]',
            run: "click",
        },
        {
            content: "A statement can be downloaded",
            trigger: 'a.o_ds_statement_link[href*="/statement?access_token="]',
        },
        {
            content: "Go to my messages",
            trigger: '.o_ds_leader_nav a[href="/my/messages"]',
            run: "click",
        },
        {
            content: "Choose the new recruits",
            trigger: 'select[name="audience"]',
            run: "select new_recruits",
        },
        {
            trigger: 'input[name="subject"]',
            run: "edit Welcome to the team",
        },
        {
            trigger: 'textarea[name="body"]',
            run: "edit Glad to have you with us.",
        },
        {
            content: "Send",
            trigger: ".o_ds_message_send",
            run: "click",
        },
        {
            content: "The message is sent and in the history",
            trigger: '.o_ds_message_sent',
        },
        {
            trigger: '.o_ds_message_row:contains("Welcome to the team")',
        },
    ],
});
