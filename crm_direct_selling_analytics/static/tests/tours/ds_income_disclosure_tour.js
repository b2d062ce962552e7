import { registry } from "@web/core/registry";

// The income disclosure as a back-office manager reads it (issue 13): one statement per
// year grouped by statement, the year read as a year, then per period through the
// "By Period" filter; group totals count every amount once.
registry.category("web_tour.tours").add("ds_income_disclosure_tour", {
    steps: () => [
        {
            content: "the year statement, grouped, the year as a year and its total once",
            trigger: '.o_group_header:contains("2026 (2)"):contains("540.00")',
        },
        {
            content: "unfold the year",
            trigger: '.o_group_header:contains("2026 (2)")',
            run: "click",
        },
        {
            content: "one row per paid-as rank",
            trigger: '.o_data_row:contains("Tour Manager") td[name="statement"]:contains("2026")',
        },
        {
            content: "open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "by period instead of year",
            trigger: '.o_filter_menu .dropdown-item:contains("By Period")',
            run: "click",
        },
        {
            content: "the January statement with its own total",
            trigger: '.o_group_header:contains("2026-01 (2)"):contains("440.00")',
        },
        {
            content: "and February's",
            trigger: '.o_group_header:contains("2026-02 (1)"):contains("100.00")',
        },
    ],
});
