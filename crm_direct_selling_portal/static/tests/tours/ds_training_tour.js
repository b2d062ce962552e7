/** @odoo-module **/

import { registry } from "@web/core/registry";

// A new distributor (see test_training.py) opens Training from the portal home: their own
// courses (the onboarding course, already joined, at 0 %) and the silver course locked with
// the rank needed; they open the onboarding course and its first lesson.
registry.category("web_tour.tours").add("ds_training_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open Training from the portal home",
            trigger: '.o_portal_index_card a[href="/my/training"]:contains("Training")',
            run: "click",
        },
        {
            content: "The onboarding course, joined, at 0 %",
            trigger:
                'tr.o_ds_training_onboarding:contains("DST Onboarding"):contains("Joined") .o_ds_training_completion:contains("0%")',
        },
        {
            content: "The silver course is locked, naming the rank",
            trigger:
                '.o_ds_training_locked:contains("DST Silver Leadership") .o_ds_training_rank:contains("DSP Silver")',
        },
        {
            content: "Open the onboarding course",
            trigger: '.o_ds_training_course a.o_ds_training_name:contains("DST Onboarding")',
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
