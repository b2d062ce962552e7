import { registry } from "@web/core/registry";

// A decision report exported as a back-office user does it: open Most Valuable
// Customers, select a row, press "Export XLSX" in the list header. The test then
// opens the file the button produced.
registry.category("web_tour.tours").add("ds_report_export_tour", {
    steps: () => [
        {
            content: "the report lists the best customer",
            trigger: '.o_list_view .o_data_row:contains("Tour Big Spender")',
        },
        {
            content: "select that row, as a user picking what to export",
            trigger: '.o_list_view .o_data_row:contains("Tour Big Spender") .o_list_record_selector input',
            run: "click",
        },
        {
            content: "press Export XLSX",
            trigger: 'button[name="action_export_xlsx"]',
            run: "click",
        },
        {
            content: "still on the report, no error",
            trigger: '.o_list_view .o_data_row:contains("Tour Big Spender")',
            run() {
                if (document.querySelector(".o_error_dialog, .o_dialog .modal-title")) {
                    throw new Error("the export button raised an error dialog");
                }
            },
        },
    ],
});
