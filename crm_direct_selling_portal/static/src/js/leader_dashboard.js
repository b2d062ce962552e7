/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";

const COLORS = ["#017e84", "#714b67", "#e46f78", "#f3b13c", "#5c9ded", "#3aa17e", "#a26cc1"];

/**
 * Leader dashboard of the portal: four charts drawn with the Chart.js library
 * Odoo ships (bundle web.chartjs_lib, loaded lazily), from the figures the
 * server embeds in data-dashboard (the same JSON as /my/dashboard/data).
 */
publicWidget.registry.DsLeaderDashboard = publicWidget.Widget.extend({
    selector: ".o_ds_dashboard",

    async willStart() {
        await Promise.all([this._super(...arguments), loadBundle("web.chartjs_lib")]);
    },

    start() {
        this.charts = [];
        let data = {};
        try {
            data = JSON.parse(this.el.dataset.dashboard || "{}");
        } catch {
            data = {};
        }
        for (const canvas of this.el.querySelectorAll("canvas.o_ds_chart")) {
            const config = this._config(canvas.dataset.chart, data);
            if (!config) {
                continue;
            }
            this.charts.push(new Chart(canvas, config));
            canvas.dataset.dsDrawn = "1";
        }
        return this._super(...arguments);
    },

    destroy() {
        for (const chart of this.charts || []) {
            chart.destroy();
        }
        this.charts = [];
        this._super(...arguments);
    },

    _number(value) {
        return formatFloat(value || 0, { digits: [69, 2] });
    },

    _integer(value) {
        return formatFloat(value || 0, { digits: [69, 0] });
    },

    _money(value, currency) {
        const amount = formatFloat(value || 0, { digits: [69, currency?.digits ?? 2] });
        if (!currency?.symbol) {
            return amount;
        }
        return currency.position === "after"
            ? `${amount}\u00a0${currency.symbol}`
            : `${currency.symbol}\u00a0${amount}`;
    },

    _options(format, extra = {}) {
        return {
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: {
                tooltip: {
                    callbacks: {
                        label: (ctx) => `${ctx.dataset.label || ctx.label}: ${format(ctx.raw)}`,
                    },
                },
            },
            ...extra,
        };
    },

    _config(kind, data) {
        const number = (v) => this._number(v);
        const integer = (v) => this._integer(v);
        if (kind === "volumes" && data.volumes) {
            return {
                type: "bar",
                data: {
                    labels: data.volumes.labels,
                    datasets: [
                        { label: _t("PV"), data: data.volumes.pv, backgroundColor: COLORS[0] },
                        { label: _t("GV"), data: data.volumes.gv, backgroundColor: COLORS[1] },
                    ],
                },
                options: this._options(number, {
                    scales: { y: { beginAtZero: true, ticks: { callback: number } } },
                }),
            };
        }
        if (kind === "growth" && data.growth) {
            return {
                type: "bar",
                data: {
                    labels: data.growth.labels,
                    datasets: [
                        {
                            type: "line",
                            label: _t("Downline"),
                            data: data.growth.size,
                            borderColor: COLORS[0],
                            backgroundColor: COLORS[0],
                            yAxisID: "size",
                        },
                        {
                            label: _t("New recruits"),
                            data: data.growth.recruits,
                            backgroundColor: COLORS[3],
                            yAxisID: "recruits",
                        },
                    ],
                },
                options: this._options(integer, {
                    scales: {
                        size: {
                            position: "left",
                            beginAtZero: true,
                            ticks: { callback: integer, precision: 0 },
                        },
                        recruits: {
                            position: "right",
                            beginAtZero: true,
                            grid: { drawOnChartArea: false },
                            ticks: { callback: integer, precision: 0 },
                        },
                    },
                }),
            };
        }
        if (kind === "ranks" && data.ranks) {
            return {
                type: "doughnut",
                data: {
                    labels: data.ranks.labels,
                    datasets: [
                        {
                            label: _t("Members"),
                            data: data.ranks.counts,
                            backgroundColor: data.ranks.labels.map(
                                (_l, i) => COLORS[i % COLORS.length]
                            ),
                        },
                    ],
                },
                options: this._options(integer, {
                    plugins: {
                        legend: { position: "right" },
                        tooltip: {
                            callbacks: { label: (ctx) => `${ctx.label}: ${integer(ctx.raw)}` },
                        },
                    },
                }),
            };
        }
        if (kind === "bonuses" && data.bonuses) {
            const money = (v) => this._money(v, data.bonuses.currency);
            return {
                type: "bar",
                data: {
                    labels: data.bonuses.labels,
                    datasets: [
                        {
                            label: _t("Bonus"),
                            data: data.bonuses.amounts,
                            backgroundColor: COLORS[5],
                        },
                    ],
                },
                options: this._options(money, {
                    scales: { y: { beginAtZero: true, ticks: { callback: money } } },
                }),
            };
        }
        return null;
    },
});

export default publicWidget.registry.DsLeaderDashboard;
