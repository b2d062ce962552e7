/** @odoo-module **/

import { registry } from "@web/core/registry";

function inDays(days) {
    const date = new Date(Date.now() + days * 86400000);
    return date.toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("ds_autoship_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open my autoships from the portal home",
            trigger: '.o_portal_index_card a[href="/my/autoships"]',
            run: "click",
        },
        {
            content: "Set up a new autoship",
            trigger: "a.o_ds_autoship_new",
            run: "click",
        },
        {
            content: "Three energy bars",
            trigger: 'input[data-product="AS Energy Bar"]',
            run: "edit 3",
        },
        {
            content: "First order in a week",
            trigger: "input#next_date",
            run() {
                this.anchor.value = inDays(7);
            },
        },
        {
            content: "Save the autoship",
            trigger: "button.o_ds_autoship_submit",
            run: "click",
        },
        {
            content: "The autoship is set up",
            trigger: '.o_ds_autoship_message:contains("set up")',
        },
        {
            content: "Skip the next order",
            trigger: "button.o_ds_autoship_skip",
            run: "click",
        },
        {
            content: "The next order is skipped",
            trigger: '.o_ds_autoship_message:contains("skipped")',
        },
        {
            content: "Cancel in one click",
            trigger: "button.o_ds_autoship_cancel",
            run: "click",
        },
        {
            content: "The cancellation is confirmed",
            trigger: '.o_ds_autoship_message:contains("cancelled")',
        },
        {
            content: "Nothing left to change",
            trigger: "body:not(:has(button.o_ds_autoship_cancel))",
        },
    ],
});
