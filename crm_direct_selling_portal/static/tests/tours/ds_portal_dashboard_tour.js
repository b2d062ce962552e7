/** @odoo-module **/

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ds_portal_dashboard_tour", {
    url: "/my",
    steps: () => [
        {
            content: "Open the leader dashboard from the portal home",
            trigger: '.o_portal_index_card a[href="/my/dashboard"]',
            run: "click",
        },
        {
            content: "The breadcrumb names the dashboard",
            trigger: '.o_portal_submenu .breadcrumb-item.active:contains("Leader Dashboard")',
        },
        ...["volumes", "growth", "ranks", "bonuses"].map((chart) => ({
            content: `The ${chart} chart is drawn`,
            trigger: `.o_ds_dashboard canvas[data-chart="${chart}"][data-ds-drawn="1"]`,
        })),
        {
            content: "Every canvas holds a Chart.js chart with data and a size",
            trigger: ".o_ds_dashboard",
            run() {
                const canvases = document.querySelectorAll(".o_ds_dashboard canvas.o_ds_chart");
                if (canvases.length !== 4) {
                    throw new Error(`4 charts expected, got ${canvases.length}`);
                }
                for (const canvas of canvases) {
                    const chart = window.Chart && window.Chart.getChart(canvas);
                    if (!chart) {
                        throw new Error(`no chart on ${canvas.dataset.chart}`);
                    }
                    if (!(canvas.width > 0 && canvas.height > 0)) {
                        throw new Error(`empty canvas ${canvas.dataset.chart}`);
                    }
                    const points = chart.data.datasets.reduce(
                        (sum, dataset) => sum + dataset.data.length,
                        0
                    );
                    if (!points) {
                        throw new Error(`no data in ${canvas.dataset.chart}`);
                    }
                }
                document.body.classList.add("o_ds_dashboard_checked");
            },
        },
        {
            content: "The checks ran",
            trigger: "body.o_ds_dashboard_checked",
        },
    ],
});
