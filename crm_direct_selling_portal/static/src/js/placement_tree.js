/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";

/**
 * Lazy placement tree of the leader portal (binary / matrix plans): a node's children are
 * fetched from /my/placement/children only when it is opened, one level at a time. When the
 * leader has recruits waiting in the holding tank, each free slot is a button that chooses
 * where the placement form puts the selected recruit.
 */
publicWidget.registry.DsPlacementTree = publicWidget.Widget.extend({
    selector: ".o_ds_placement_tree",
    events: {
        "click .o_ds_ptree_toggle": "_onToggle",
        "click .o_ds_ptree_slot": "_onSlot",
    },

    start() {
        this.width = parseInt(this.el.dataset.width || "2");
        this.form = document.querySelector(".o_ds_placement_form");
        return this._super(...arguments);
    },

    _slotLabel(slot) {
        if (this.width === 2) {
            return slot === 1 ? _t("Left slot") : _t("Right slot");
        }
        return _t("Slot %s", slot);
    },

    _renderNode(child) {
        const li = document.createElement("li");
        li.className = "o_ds_ptree_node";
        li.dataset.nodeId = child.id;
        const row = document.createElement("div");
        row.className = "d-flex flex-wrap align-items-center gap-2 py-1";
        if (child.child_count) {
            const toggle = document.createElement("button");
            toggle.type = "button";
            toggle.className = "btn btn-sm btn-light o_ds_ptree_toggle";
            toggle.dataset.nodeId = child.id;
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
        const slot = document.createElement("span");
        slot.className = "badge text-bg-light o_ds_ptree_position";
        slot.textContent = this._slotLabel(child.slot);
        row.appendChild(slot);
        const name = document.createElement("span");
        name.className = "o_ds_ptree_member";
        name.textContent = child.name;
        row.appendChild(name);
        const code = document.createElement("span");
        code.className = "text-muted small";
        code.textContent = child.code;
        row.appendChild(code);
        const legs = document.createElement("span");
        legs.className = "small o_ds_ptree_legs";
        legs.textContent = `L ${formatFloat(child.left_volume)} · R ${formatFloat(child.right_volume)}`;
        row.appendChild(legs);
        if (!child.is_active) {
            const inactive = document.createElement("span");
            inactive.className = "badge text-bg-secondary";
            inactive.textContent = _t("Inactive");
            row.appendChild(inactive);
        }
        if (this.form) {
            for (const open of child.open_slots) {
                const button = document.createElement("button");
                button.type = "button";
                button.className = "btn btn-sm btn-outline-primary o_ds_ptree_slot";
                button.dataset.parentId = child.id;
                button.dataset.slot = open;
                button.dataset.label = `${child.name} · ${this._slotLabel(open)}`;
                button.textContent = this._slotLabel(open);
                row.appendChild(button);
            }
        }
        li.appendChild(row);
        const ul = document.createElement("ul");
        ul.className = "list-unstyled ms-4 o_ds_ptree_children d-none";
        li.appendChild(ul);
        return li;
    },

    async _load(nodeId, container) {
        const params = new URLSearchParams({ node_id: nodeId });
        const response = await fetch(`/my/placement/children?${params}`, {
            credentials: "same-origin",
            headers: { Accept: "application/json" },
        });
        if (!response.ok) {
            throw new Error(`HTTP ${response.status}`);
        }
        const data = await response.json();
        for (const child of data.children) {
            container.appendChild(this._renderNode(child));
        }
        container.dataset.loaded = "1";
    },

    async _onToggle(ev) {
        const button = ev.currentTarget;
        const li = button.closest(".o_ds_ptree_node");
        const container = li.querySelector(":scope > .o_ds_ptree_children");
        if (button.getAttribute("aria-expanded") === "true") {
            container.classList.add("d-none");
            button.setAttribute("aria-expanded", "false");
            button.innerHTML = '<i class="fa fa-caret-right"></i>';
            return;
        }
        if (!container.dataset.loaded) {
            button.disabled = true;
            try {
                await this._load(button.dataset.nodeId, container);
            } finally {
                button.disabled = false;
            }
        }
        container.classList.remove("d-none");
        button.setAttribute("aria-expanded", "true");
        button.innerHTML = '<i class="fa fa-caret-down"></i>';
    },

    _onSlot(ev) {
        if (!this.form) {
            return;
        }
        const button = ev.currentTarget;
        this.form.querySelector(".o_ds_place_parent").value = button.dataset.parentId;
        this.form.querySelector(".o_ds_place_slot").value = button.dataset.slot;
        this.form.querySelector(".o_ds_place_target").textContent = button.dataset.label;
        this.form.querySelector(".o_ds_place_submit").disabled = false;
        for (const other of this.el.querySelectorAll(".o_ds_ptree_slot.active")) {
            other.classList.remove("active");
        }
        button.classList.add("active");
    },
});

export default publicWidget.registry.DsPlacementTree;
