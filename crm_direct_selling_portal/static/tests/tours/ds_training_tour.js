/** @odoo-module **/

import { registry } from "@web/core/registry";

// A new distributor (see test_training.py) opens Training from the portal home: the
// onboarding course is already joined, the silver course is locked with the rank needed.
registry.category("web_tour.tours").add("ds_training_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open Training from the portal home",
            trigger: 'a[href="/slides"]:contains("Training")',
            run: "click",
        },
        {
            content: "The silver course is locked, naming the rank",
            trigger:
                '.o_wslides_course_card:contains("DST Silver Leadership") .o_ds_course_locked:contains("DSP Silver")',
        },
        {
            content: "Open the onboarding course",
            trigger: '.o_wslides_course_card a.card-title:contains("DST Onboarding")',
            run: "click",
        },
        {
            content: "Already a member: its lessons are listed, no join button",
            trigger: 'a:contains("DST Welcome 1")',
        },
        {
            trigger: "body:not(:has(.o_wslides_js_course_join_link))",
        },
        {
            content: "Open the first lesson",
            trigger: 'a:contains("DST Welcome 1")',
            run: "click",
        },
        {
            content: "The lesson content is shown",
            trigger: 'p:contains("DST welcome lesson 1")',
        },
    ],
});
