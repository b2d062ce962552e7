/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * Click a download link without leaving the page: the click is recorded (the browser's
 * own navigation to the file is prevented) and the recorded address is then fetched, so
 * the tour can check what the leader would have saved.
 */
async function clickAndFetch(link) {
    let href = null;
    const record = (ev) => {
        href = ev.currentTarget.href;
        ev.preventDefault();
    };
    link.addEventListener("click", record, { once: true });
    link.click();
    if (!href) {
        throw new Error("the link was not clicked");
    }
    const response = await fetch(href, { credentials: "same-origin" });
    const body = new Uint8Array(await response.arrayBuffer());
    return { href, response, body };
}

registry.category("web_tour.tours").add("ds_portal_statement_tour", {
    url: "/my/bonuses",
    steps: () => [
        {
            content: "The leader's posted statement is listed",
            trigger: ".o_ds_bonus_row:contains('DSP prev')",
        },
        {
            content: "Download the lines of the statement (XLSX)",
            trigger: ".o_ds_bonus_row:contains('DSP prev') a.o_ds_statement_xlsx_link",
            async run({ anchor }) {
                const { href, response, body } = await clickAndFetch(anchor);
                const type = response.headers.get("Content-Type") || "";
                if (
                    response.status !== 200 ||
                    !type.includes("spreadsheetml") ||
                    body[0] !== 0x50 || // "PK": an XLSX is a zip archive
                    body[1] !== 0x4b
                ) {
                    throw new Error(`not an XLSX: ${href} ${response.status} ${type}`);
                }
                document.body.classList.add("o_ds_xlsx_ok");
                document.body.dataset.dsXlsxHref = new URL(href).pathname;
            },
        },
        {
            content: "Download the summary statement (PDF)",
            trigger: "body.o_ds_xlsx_ok .o_ds_bonus_row:contains('DSP prev') a.o_ds_statement_link",
            async run({ anchor }) {
                const { href, response, body } = await clickAndFetch(anchor);
                const type = response.headers.get("Content-Type") || "";
                const text = new TextDecoder().decode(body.slice(0, 5));
                // a PDF, or in test mode (no wkhtmltopdf) the HTML it would be printed from
                const ok =
                    response.status === 200 &&
                    ((type.includes("application/pdf") && text === "%PDF-") ||
                        type.includes("text/html"));
                if (!ok) {
                    throw new Error(`not a statement: ${href} ${response.status} ${type}`);
                }
                document.body.classList.add("o_ds_pdf_ok");
            },
        },
        {
            content: "Both downloads answered",
            trigger: "body.o_ds_pdf_ok",
        },
    ],
});
