import { registry } from "@web/core/registry";

// A "Direct Selling / User" creates a simulation bonus run in the form and computes it:
// the server accepts what the web client sends for a user (only the editable fields),
// and the manager's buttons are not offered.
registry.category("web_tour.tours").add("ds_matrix_user_run_tour", {
    steps: () => [
        {
            content: "choose the period",
            trigger: '.o_field_widget[name="period_id"] input',
            run: "edit DSP current",
        },
        {
            trigger: '.o-autocomplete--dropdown-item:contains("DSP current")',
            run: "click",
        },
        {
            content: "choose the plan",
            trigger: '.o_field_widget[name="plan_id"] input',
            run: "edit DSP Plan",
        },
        {
            trigger: '.o-autocomplete--dropdown-item:contains("DSP Plan")',
            run: "click",
        },
        {
            content: "a simulation",
            trigger: '.o_field_widget[name="simulation"] input',
            run: "click",
        },
        {
            content: "save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "compute it",
            trigger: '.o_form_saved button[name="action_compute"]:contains("Compute")',
            run: "click",
        },
        {
            content: "computed",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Computed")',
        },
        {
            content: "no approval, posting or cancelling for a user",
            trigger:
                '.o_form_view:not(:has(button[name="action_approve"])):not(:has(button[name="action_cancel"]))',
        },
    ],
});
