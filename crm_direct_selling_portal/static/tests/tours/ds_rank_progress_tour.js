/** @odoo-module **/

import { registry } from "@web/core/registry";

// A leader one leg short of the next rank (see test_rank_progress.py) reads that requirement
// as not met, with the legs counted and required, named for what they count.
registry.category("web_tour.tours").add("ds_rank_progress_tour", {
    url: "/my/volume",
    steps: () => [
        {
            content: "The next rank is named",
            trigger: '.o_ds_next_rank:contains("RPP Leader")',
        },
        {
            content: "The legs requirement names the leg rank",
            trigger:
                '.o_ds_requirement_legs .o_ds_req_label:contains("Legs toward next rank (RPP Star or higher)")',
        },
        {
            content: "One leg counted of two required",
            trigger: '.o_ds_requirement_legs .o_ds_req_actual:contains("1")',
        },
        {
            trigger: '.o_ds_requirement_legs .o_ds_req_required:contains("2")',
        },
        {
            content: "The legs requirement is not met, one leg missing",
            trigger: '.o_ds_requirement_legs .o_ds_req_not_met:contains("not met, missing 1")',
        },
        {
            content: "The GV counted for the next rank (leg cap) is met",
            trigger: '.o_ds_requirement_gv .o_ds_req_met:contains("met")',
        },
        {
            content: "The history names the next rank",
            trigger: '.o_ds_history_row td:contains("RPP Leader")',
        },
    ],
});
