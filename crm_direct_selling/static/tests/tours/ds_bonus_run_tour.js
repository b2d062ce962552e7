import { registry } from "@web/core/registry";

// A bonus run through its form, as a back-office manager works it: compute, review the
// lines, approve, post the payouts (one vendor bill per earner), open the bills.
registry.category("web_tour.tours").add("ds_bonus_run_tour", {
    steps: () => [
        {
            content: "a draft run",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Draft")',
        },
        {
            content: "compute it",
            trigger: 'button[name="action_compute"]:contains("Compute")',
            run: "click",
        },
        {
            content: "computed",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Computed")',
        },
        {
            content: "the totals are shown",
            trigger: '.o_field_widget[name="total_amount"]:contains("30.00")',
        },
        {
            content: "review the lines",
            trigger: 'button[name="action_view_lines"]',
            run: "click",
        },
        {
            content: "lines grouped by earner: unfold the sponsor",
            trigger: '.o_list_view .o_group_header:contains("Tour Sponsor")',
            run: "click",
        },
        {
            content: "one line per source and level",
            trigger: '.o_list_view .o_data_row:contains("Tour Recruit 2")',
        },
        {
            content: "back to the run",
            trigger: '.o_breadcrumb .breadcrumb-item a:contains("Tour plan")',
            run: "click",
        },
        {
            content: "approve",
            trigger: 'button[name="action_approve"]',
            run: "click",
        },
        {
            content: "approved",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Approved")',
        },
        {
            content: "post the payouts",
            trigger: 'button[name="action_post"]',
            run: "click",
        },
        {
            content: "confirm",
            trigger: '.modal-footer button.btn-primary:contains("Ok")',
            run: "click",
        },
        {
            content: "posted",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Posted")',
        },
        {
            content: "open the bills",
            trigger: 'button[name="action_view_moves"]',
            run: "click",
        },
        {
            content: "the run's vendor bill, not paid yet",
            trigger: '.o_data_row:contains("Tour plan / 2026-01"):contains("Not Paid")',
        },
    ],
});
