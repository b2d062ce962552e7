/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";

/**
 * Lazy genealogy tree of the leader portal: a node's frontline is fetched from
 * /my/network/tree/children only when the node is opened, one level at a time.
 */
publicWidget.registry.DsGenealogyTree = publicWidget.Widget.extend({
    selector: ".o_ds_genealogy_tree",
    events: {
        "click .o_ds_tree_toggle": "_onToggle",
        "click .o_ds_tree_more": "_onMore",
    },

    async _fetchChildren(nodeId, offset) {
        const params = new URLSearchParams({ node_id: nodeId, offset: offset || 0 });
        const response = await fetch(`/my/network/tree/children?${params}`, {
            credentials: "same-origin",
            headers: { Accept: "application/json" },
        });
        if (!response.ok) {
            throw new Error(`HTTP ${response.status}`);
        }
        return response.json();
    },

    _renderNode(child) {
        const li = document.createElement("li");
        li.className = "o_ds_tree_node";
        li.dataset.nodeId = child.id;
        const row = document.createElement("div");
        row.className = "d-flex flex-wrap align-items-center gap-2 py-1";
        if (child.child_count) {
            const toggle = document.createElement("button");
            toggle.type = "button";
            toggle.className = "btn btn-sm btn-light o_ds_tree_toggle";
            toggle.dataset.nodeId = child.id;
            toggle.dataset.name = child.name;
            toggle.setAttribute("aria-expanded", "false");
            toggle.setAttribute("aria-label", _t("Open"));
            toggle.innerHTML = '<i class="fa fa-caret-right"></i>';
            row.appendChild(toggle);
        } else {
            const spacer = document.createElement("span");
            spacer.className = "d-inline-block";
            spacer.style.width = "2rem";
            row.appendChild(spacer);
        }
        const link = document.createElement("a");
        link.href = child.url;
        link.className = "o_ds_tree_member";
        link.textContent = child.name;
        row.appendChild(link);
        const details = document.createElement("span");
        details.className = "text-muted small";
        details.textContent = [child.code, child.rank].filter(Boolean).join(" · ");
        row.appendChild(details);
        const volume = document.createElement("span");
        volume.className = "small";
        volume.textContent = `PV ${formatFloat(child.pv)} · GV ${formatFloat(child.gv)}`;
        row.appendChild(volume);
        const badge = document.createElement("span");
        badge.className = "badge text-bg-light";
        badge.textContent = child.child_count;
        badge.title = _t("Frontline");
        row.appendChild(badge);
        if (!child.is_active) {
            const inactive = document.createElement("span");
            inactive.className = "badge text-bg-secondary";
            inactive.textContent = _t("Inactive");
            row.appendChild(inactive);
        }
        li.appendChild(row);
        const ul = document.createElement("ul");
        ul.className = "list-unstyled ms-4 o_ds_tree_children d-none";
        li.appendChild(ul);
        return li;
    },

    async _load(nodeId, container, offset) {
        const data = await this._fetchChildren(nodeId, offset);
        container.querySelector(":scope > .o_ds_tree_more")?.remove();
        for (const child of data.children) {
            container.appendChild(this._renderNode(child));
        }
        if (data.has_more) {
            const more = document.createElement("li");
            more.className = "o_ds_tree_more";
            const button = document.createElement("button");
            button.type = "button";
            button.className = "btn btn-link btn-sm o_ds_tree_more";
            button.dataset.nodeId = nodeId;
            button.dataset.offset = data.offset + data.children.length;
            button.textContent = _t("Show more");
            more.appendChild(button);
            container.appendChild(more);
        }
        container.dataset.loaded = "1";
    },

    async _onToggle(ev) {
        const button = ev.currentTarget;
        const li = button.closest(".o_ds_tree_node");
        const container = li.querySelector(":scope > .o_ds_tree_children");
        const open = button.getAttribute("aria-expanded") === "true";
        if (open) {
            container.classList.add("d-none");
            button.setAttribute("aria-expanded", "false");
            button.innerHTML = '<i class="fa fa-caret-right"></i>';
            return;
        }
        if (!container.dataset.loaded) {
            button.disabled = true;
            try {
                await this._load(button.dataset.nodeId, container, 0);
            } finally {
                button.disabled = false;
            }
        }
        container.classList.remove("d-none");
        button.setAttribute("aria-expanded", "true");
        button.innerHTML = '<i class="fa fa-caret-down"></i>';
    },

    async _onMore(ev) {
        const button = ev.currentTarget;
        if (button.tagName !== "BUTTON") {
            return;
        }
        const container = button.closest(".o_ds_tree_children, .o_ds_genealogy_tree > ul");
        button.disabled = true;
        await this._load(button.dataset.nodeId, container, parseInt(button.dataset.offset));
    },
});

export default publicWidget.registry.DsGenealogyTree;
