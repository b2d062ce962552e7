"""Every menu, view and button of the three addons, as the web client calls them (issue 13).

The test knows no menu, view or button by name: it asks ``/web/webclient/load_menus`` which
menus a Direct Selling manager (then a Direct Selling user) sees, keeps those of our addons,
loads each window action with ``/web/action/load``, its views with ``get_views`` and their data
(``web_search_read``, ``web_read``, ``web_read_group``, ``read_group``, ``hierarchy_read``) the way
the client does, then presses every ``type="object"`` button of those views through
``/web/dataset/call_button``: list header buttons with no selection, one and several rows, the
other buttons on a record where they are visible. Buttons whose ``groups`` exclude the user must
be refused with an AccessError. Windows a button opens are loaded too (one level), and their
buttons pressed on a record saved from the window's defaults (a wizard). Every file a button
returns is downloaded over HTTP and opened with openpyxl.

A traceback that is not a UserError / ValidationError / AccessError is a failure; all failures
are collected and listed in one assertion message.

A new menu, view or button is covered without touching this file. ``BUTTON_CONTEXT`` holds the
context some buttons need from the client (none so far).
"""

import io
import json
import logging
import re
from datetime import timedelta

import openpyxl
from lxml import etree

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import DsPortalCommon

_logger = logging.getLogger(__name__)

OUR_MODULES = (
    "crm_direct_selling",
    "crm_direct_selling_analytics",
    "crm_direct_selling_portal",
)
# a clear error naming what is wrong: what a user may be shown
CLEAR_ERRORS = {
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.AccessError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.RedirectWarning",
}
# (model, method): extra context the web client passes to the button (button ``context=``
# attributes are evaluated on the record; this table is for what a view cannot express)
BUTTON_CONTEXT = {}
SAMPLE = 80  # rows a list loads


@tagged("post_install", "-at_install")
class TestEveryButton(DsPortalCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls._create_bonus_data()
        Users = env["res.users"].with_context(no_reset_password=True)
        cls.user_manager = Users.create(
            {
                "name": "DSB Manager",
                "login": "dsb_manager",
                "password": "dsb_manager",
                "email": "dsb.manager@example.com",
                "groups_id": [
                    Command.set(
                        [
                            env.ref("crm_direct_selling.group_ds_manager").id,
                            env.ref("mass_mailing.group_mass_mailing_user").id,
                        ]
                    )
                ],
            }
        )
        cls.user_plain = Users.create(
            {
                "name": "DSB User",
                "login": "dsb_user",
                "password": "dsb_user",
                "email": "dsb.user@example.com",
                "groups_id": [
                    Command.set([env.ref("crm_direct_selling.group_ds_user").id])
                ],
            }
        )
        # sales so that the decision reports have rows: a retail customer and distributors
        product = env["product.product"].create(
            {
                "name": "DSB Kit",
                "list_price": 100.0,
                "ds_pv": 100.0,
                "ds_bv": 80.0,
                "taxes_id": [Command.clear()],
            }
        )
        today = fields.Date.context_today(env["ds.period"])
        for partner, days in (
            (cls.consumer_partner, 3),
            (cls.consumer_partner, 200),
            (cls.lana.partner_id, 10),
            (cls.fay.partner_id, 40),
            (cls.sam_customer, 300),
        ):
            invoice_date = today - timedelta(days=days)
            move = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": invoice_date,
                    "date": invoice_date,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "quantity": 1,
                                "price_unit": 100.0,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
            move.action_post()
        env["ds.partner.rfm"]._refresh_company(cls.company)
        cls.segment = env["ds.segment"].create(
            {"name": "DSB everyone", "partner_type": "all"}
        )
        cls.segment.action_refresh()
        cls.company.write({"ds_campaign_min_group_size": 2, "ds_holdout_pct": 0.0})
        campaign_vals = {
            "segment_id": cls.segment.id,
            "control_pct": 50.0,
            "stratify": False,
            "date_start": today - timedelta(days=30),
            "date_end": today,
        }
        cls.campaign = env["ds.campaign"].create(
            dict(campaign_vals, name="DSB campaign")
        )
        # running ones, for the campaign response report (two: Cancel is pressed on one)
        running = env["ds.campaign"].create(
            [dict(campaign_vals, name=f"DSB running {i}") for i in (1, 2)]
        )
        running.action_assign()
        running.action_launch()
        env["ds.lead.routing.rule"].create({"name": "DSB routing"})
        # a lead routed to a distributor (the "routed leads" list)
        env["crm.lead"].create(
            {
                "name": "DSB lead",
                "ds_distributor_id": cls.lana.id,
                "type": "opportunity",
                "user_id": False,
            }
        )

    # ------------------------------------------------------------------ JSON-RPC
    def _json(self, route, params):
        """(result, error): error is the JSON-RPC error dict or a synthetic one for HTTP errors."""
        response = self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        if response.status_code != 200:
            return None, {
                "data": {
                    "name": f"HTTP {response.status_code}",
                    "message": response.text[:300],
                }
            }
        body = response.json()
        return body.get("result"), body.get("error")

    def _call_kw(self, model, method, args, kwargs=None):
        return self._json(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def _fail(self, where, error):
        data = (error or {}).get("data") or {}
        debug = (data.get("debug") or "").strip().splitlines()
        self.failures.append(
            "{} -> {}: {}{}".format(
                where,
                data.get("name"),
                (data.get("message") or "").strip().splitlines()[0:1],
                f" [{debug[-1]}]" if debug else "",
            )
        )

    def _check(self, where, error):
        """A traceback is a failure; no error or a clear user error is fine."""
        if error and (error.get("data") or {}).get("name") not in CLEAR_ERRORS:
            self._fail(where, error)
            return False
        return True

    # ------------------------------------------------------------------ views
    def _eval(self, expr, values=None, default=None):
        ctx = {
            "uid": self.walk_uid,
            "context": {},
            "allowed_company_ids": [self.company.id],
            "current_company_id": self.company.id,
            "active_id": False,
            "active_ids": [],
            "today": fields.Date.today().isoformat(),
            "True": True,
            "False": False,
            "None": None,
        }
        ctx.update(values or {})
        try:
            return safe_eval(expr, ctx)
        except Exception:  # noqa: BLE001 - a client-side expression we cannot evaluate
            return default

    @staticmethod
    def _spec(node, model_fields, models):
        """The fields specification the web client builds from a view node: every
        ``<field>`` of the node; x2many fields with the fields of their inline sub-view."""
        spec = {}
        stack = list(node)
        while stack:
            child = stack.pop()
            if not isinstance(child.tag, str):
                continue
            if child.tag == "field" and child.get("name") in model_fields:
                name = child.get("name")
                info = model_fields[name]
                sub = {}
                if info["type"] in ("many2one", "one2many", "many2many"):
                    sub = {"fields": {"display_name": {}}}
                    subviews = [c for c in child if c.tag in ("list", "kanban", "form")]
                    comodel = models.get(info.get("relation"), {}).get("fields", {})
                    if subviews and comodel and info["type"] != "many2one":
                        sub = {
                            "fields": TestEveryButton._spec(
                                subviews[0], comodel, models
                            )
                        }
                spec[name] = sub
                continue
            if child.tag in ("list", "kanban", "form") and child is not node:
                continue
            stack.extend(child)
        spec.setdefault("display_name", {})
        return spec

    def _record_values(self, record):
        """The values a client expression sees: many2one -> id, x2many -> ids."""
        values = {}
        for name, value in record.items():
            if isinstance(value, dict):
                value = value.get("id", False)
            elif isinstance(value, list):
                value = [v["id"] if isinstance(v, dict) else v for v in value]
            values[name] = value
        return values

    def _effective_groups(self, node):
        groups = []
        while node is not None:
            if node.get("groups"):
                groups.append(node.get("groups"))
            node = node.getparent()
        return groups

    def _user_has(self, groups):
        user = self.env["res.users"].browse(self.walk_uid)
        return all(user.has_groups(spec) for spec in groups)

    def _ours(self, model, method):
        """Methods written or overridden in our addons (the buttons of other addons in the
        stock views of crm.lead or res.partner are theirs to test)."""
        Model = self.env[model]
        if model.startswith("ds."):
            return True
        for cls in type(Model).__mro__:
            if method in vars(cls) and getattr(cls, "_module", None) in OUR_MODULES:
                return True
        return False

    def _buttons(self, view_id, view_type, arch):
        """(node, where, visible_to_user) for each type="object" button of the view: those of
        the user's arch, and those of the raw arch (sudo) that ``groups`` hides from them."""
        seen = set()
        result = []
        for node in arch.iter("button"):
            if node.get("type") == "object" and node.get("name"):
                seen.add(node.get("name"))
                result.append((node, self._button_place(node, view_type), True))
        if view_id:
            raw = self.env["ir.ui.view"].sudo().browse(view_id)._get_combined_arch()
            for node in raw.iter("button"):
                if (
                    node.get("type") == "object"
                    and node.get("name")
                    and node.get("name") not in seen
                    and not self._user_has(self._effective_groups(node))
                ):
                    result.append((node, self._button_place(node, view_type), False))
        return result

    @staticmethod
    def _button_place(node, view_type):
        parent = node.getparent()
        while parent is not None:
            if parent.tag == "header" and view_type == "list":
                return "list-header"
            if parent.tag in ("list", "kanban") and view_type == "form":
                return "x2many"
            parent = parent.getparent()
        return view_type

    # ------------------------------------------------------------------ pressing
    def _press(self, model, method, ids, context, where, visible, expect_rows):
        self.pressed.add((model, method))
        if ids:
            self.pressed_on_rows.add((model, method))
        result, error = self._json(
            "/web/dataset/call_button",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": context},
            },
        )
        label = f"{where} {model}.{method}({ids})"
        if not visible:
            name = (error or {}).get("data", {}).get("name")
            if name != "odoo.exceptions.AccessError":
                self.failures.append(
                    f"{label} -> {name or 'accepted'}: a button the user's groups hide "
                    "must be refused with AccessError"
                )
            return None
        if not self._check(label, error):
            return None
        if isinstance(result, dict):
            self._follow(result, label, expect_rows)
        return result

    def _follow(self, action, label, expect_rows):
        if action.get("type") == "ir.actions.act_url" and "/web/content" in (
            action.get("url") or ""
        ):
            self._check_download(action["url"], label, expect_rows)
        elif action.get("type") == "ir.actions.report":
            self.downloads += 1
            ids = ",".join(
                str(i) for i in (action.get("context") or {}).get("active_ids") or []
            )
            response = self.url_open(
                f"/report/html/{action['report_name']}/{ids}", timeout=120
            )
            if response.status_code != 200:
                self.failures.append(
                    f"{label} -> report {action['report_name']} HTTP {response.status_code}"
                )
        elif action.get("type") == "ir.actions.act_window" and action.get("res_model"):
            key = (
                action["res_model"],
                tuple(tuple(v) for v in action.get("views") or ()),
            )
            if key not in self.windows_seen:
                self.windows_seen.add(key)
                self.to_open.append((action, label))

    def _check_download(self, url, label, expect_rows):
        self.downloads += 1
        response = self.url_open(url, timeout=120)
        if response.status_code != 200:
            self.failures.append(
                f"{label} -> download {url} HTTP {response.status_code}"
            )
            return
        try:
            workbook = openpyxl.load_workbook(
                io.BytesIO(response.content), read_only=True
            )
        except Exception as e:  # noqa: BLE001 - any unreadable file is the failure
            self.failures.append(f"{label} -> download {url} is no XLSX: {e}")
            return
        if not workbook.sheetnames:
            self.failures.append(f"{label} -> {url}: no sheet")
            return
        rows = [
            row
            for row in workbook[workbook.sheetnames[0]].iter_rows(values_only=True)
            if any(v not in (None, "") for v in row)
        ]
        header = next(
            (
                i
                for i, row in enumerate(rows)
                if sum(isinstance(v, str) and v.strip() != "" for v in row) >= 2
            ),
            None,
        )
        if header is None:
            self.failures.append(f"{label} -> {url}: no header row")
        elif expect_rows and len(rows) <= header + 1:
            self.failures.append(f"{label} -> {url}: header only, the data has rows")

    # ------------------------------------------------------------------ the walk
    def _window_context_domain(self, action):
        context = action.get("context") or {}
        if isinstance(context, str):
            context = self._eval(context, default={}) or {}
        domain = action.get("domain") or []
        if isinstance(domain, str):
            domain = self._eval(domain, {"context": context}, default=[]) or []
        return dict(context), list(domain)

    def _search_defaults(self, search_arch, context, domain):
        """The domain and group-bys the action's ``search_default_*`` filters apply."""
        groupby = []
        for key, value in context.items():
            if not (key.startswith("search_default_") and value):
                continue
            node = search_arch.find(f".//filter[@name='{key[15:]}']")
            if node is None:
                continue
            extra = self._eval(node.get("domain") or "[]", {"context": context})
            if extra:
                domain = ["&", *domain, *extra] if domain else list(extra)
            group_by = (self._eval(node.get("context") or "{}", default={}) or {}).get(
                "group_by"
            )
            if group_by:
                groupby.append(group_by)
        return domain, groupby

    def _load_list(self, model, arch, models, domain, groupby, context, where):
        """What a list or kanban view loads: its records, and its groups when grouped."""
        spec = self._spec(arch, models[model]["fields"], models)
        res, error = self._call_kw(
            model,
            "web_search_read",
            [],
            {
                "domain": domain,
                "specification": spec,
                "limit": SAMPLE,
                "context": context,
            },
        )
        ids = (
            [rec["id"] for rec in res["records"]]
            if self._check(f"{where} {model}.web_search_read", error) and res
            else []
        )
        default_gb = arch.get("default_group_by")
        for group_by in groupby + ([default_gb] if default_gb else []):
            res, error = self._call_kw(
                model,
                "web_read_group",
                [],
                {
                    "domain": domain,
                    "fields": [],
                    "groupby": [group_by],
                    "limit": SAMPLE,
                    "lazy": True,
                    "context": context,
                },
            )
            self._check(f"{where} {model}.web_read_group({group_by})", error)
        return ids

    def _load_view_data(
        self, model, view_type, arch, models, domain, groupby, context, where
    ):
        model_fields = models[model]["fields"]
        if view_type in ("list", "kanban"):
            return self._load_list(model, arch, models, domain, groupby, context, where)
        if view_type in ("pivot", "graph"):
            fields_of = {
                kind: [
                    n.get("name")
                    for n in arch.iter("field")
                    if n.get("name") in model_fields
                    and (n.get("type") == "measure") == (kind == "measure")
                ]
                for kind in ("measure", "group")
            }
            res, error = self._call_kw(
                model,
                "read_group",
                [],
                {
                    "domain": domain,
                    "fields": ["__count", *fields_of["measure"]],
                    "groupby": (groupby + fields_of["group"])[:1],
                    "lazy": False,
                    "context": context,
                },
            )
            self._check(f"{where} {model}.read_group", error)
        elif view_type == "hierarchy":
            res, error = self._call_kw(
                model,
                "hierarchy_read",
                [
                    domain,
                    [n.get("name") for n in arch.iter("field")] or ["display_name"],
                    arch.get("parent_field") or "parent_id",
                    arch.get("child_field"),
                ],
                {"context": context},
            )
            self._check(f"{where} {model}.hierarchy_read", error)
        return []

    def _required_values(self, model, result, models, defaults, context):
        """What a user types in a New form before saving: a value for each required field
        the defaults leave empty (a many2one: the first name_search hit)."""
        model_fields = models[model]["fields"]
        arch = etree.fromstring(result["views"]["form"]["arch"])
        required = {
            n.get("name")
            for n in arch.iter("field")
            if n.get("name") in model_fields
            and (
                model_fields[n.get("name")].get("required")
                or n.get("required") in ("1", "True")
            )
        }
        values = {}
        for name in sorted(required):
            info = model_fields[name]
            if defaults.get(name) not in (None, False, "", []) or info.get("readonly"):
                continue
            kind = info["type"]
            if kind == "many2one":
                hits, _error = self._call_kw(
                    info["relation"],
                    "name_search",
                    [],
                    {"name": "", "limit": 1, "context": context},
                )
                if hits:
                    values[name] = hits[0][0]
            elif kind in ("char", "text", "html"):
                values[name] = f"DSB {info.get('string') or name}"
            elif kind == "selection" and info.get("selection"):
                values[name] = info["selection"][0][0]
            elif kind in ("integer", "float", "monetary"):
                values[name] = 1
            elif kind == "date":
                values[name] = fields.Date.today().isoformat()
            elif kind == "datetime":
                values[name] = fields.Datetime.to_string(fields.Datetime.now())
        return values

    def _save_new(self, model, result, models, context, label):
        """A wizard: opened (onchange) and saved as the client saves it before a button
        runs. Returns the new id or None."""
        form_spec = self._spec(
            etree.fromstring(result["views"]["form"]["arch"]),
            models[model]["fields"],
            models,
        )
        res, error = self._call_kw(
            model, "onchange", [[], {}, [], form_spec], {"context": context}
        )
        if not self._check(f"[{label} form] {model}.onchange", error) or error:
            return None
        res = res or {"value": {}}
        res, error = self._call_kw(
            model,
            "web_save",
            [[], self._required_values(model, result, models, res["value"], context)],
            {"specification": {}, "context": context},
        )
        if not self._check(f"[{label} form] {model}.web_save", error):
            return None
        if error:
            self.uncovered.append(
                f"{label}: {model} not saved ({error['data'].get('message')})"
            )
            return None
        return res[0]["id"]

    def _open_window(self, action, label):
        """Load the views of a window action and their data; press the buttons."""
        model = action["res_model"]
        context, domain = self._window_context_domain(action)
        views = [list(v) for v in action.get("views") or []]
        if not any(v[1] == "search" for v in views):
            search_view = action.get("search_view_id")
            views.append([search_view[0] if search_view else False, "search"])
        result, error = self._call_kw(
            model,
            "get_views",
            [],
            {
                "views": views,
                "options": {
                    "action_id": action.get("id"),
                    "load_filters": True,
                    "toolbar": True,
                },
                "context": context,
            },
        )
        if not self._check(f"{label} {model}.get_views", error) or not result:
            return
        self.views_loaded += len(result["views"])
        models = result["models"]
        base_domain = domain
        domain, groupby = self._search_defaults(
            etree.fromstring(result["views"]["search"]["arch"]), context, domain
        )
        record_ids = [action["res_id"]] if action.get("res_id") else []
        for view_type, view in result["views"].items():
            if view_type == "search":
                continue
            for rid in self._load_view_data(
                model,
                view_type,
                etree.fromstring(view["arch"]),
                models,
                domain,
                groupby,
                context,
                f"[{label} {view_type} view {view.get('id')}]",
            ):
                if rid not in record_ids:
                    record_ids.append(rid)
        if not record_ids and domain != base_domain and "list" in result["views"]:
            # nothing under the default filters: the user removes them
            record_ids = self._load_list(
                model,
                etree.fromstring(result["views"]["list"]["arch"]),
                models,
                base_domain,
                [],
                context,
                f"[{label} list view, filters removed]",
            )
        # a wizard or a New form (a form-only window): saved, then its buttons pressed
        if not record_ids and [v for v in result["views"] if v != "search"] == ["form"]:
            new_id = self._save_new(model, result, models, context, label)
            record_ids = [new_id] if new_id else []
        self._press_buttons(model, result, models, record_ids, context, label)

    def _press_buttons(self, model, result, models, record_ids, context, label):
        model_fields = models[model]["fields"]
        form_records = []
        form = result["views"].get("form")
        if form and record_ids:
            spec = self._spec(etree.fromstring(form["arch"]), model_fields, models)
            res, error = self._call_kw(
                model,
                "web_read",
                [record_ids[:SAMPLE]],
                {"specification": spec, "context": context},
            )
            if self._check(f"[{label} form] {model}.web_read", error) and res:
                form_records = res
        values_by_id = {r["id"]: self._record_values(r) for r in form_records}
        for view_type, view in result["views"].items():
            if view_type == "search":
                continue
            arch = etree.fromstring(view["arch"])
            for node, place, visible in self._buttons(view.get("id"), view_type, arch):
                method = node.get("name")
                if place == "x2many" or not self._ours(model, method):
                    continue
                where = f"[{label} {place} view {view.get('id')}]"
                button_context = dict(context)
                if node.get("context"):
                    button_context.update(
                        self._eval(
                            node.get("context"), {"context": context}, default={}
                        )
                        or {}
                    )
                button_context.update(BUTTON_CONTEXT.get((model, method), {}))
                if place == "list-header":
                    selections = [[], record_ids[:1], record_ids[:3]]
                else:
                    # a record where the button shows, else the first one
                    invisible = node.get("invisible")
                    shown = [
                        rid
                        for rid in record_ids
                        if not invisible
                        or not self._eval(
                            invisible,
                            {
                                **values_by_id.get(rid, {}),
                                "id": rid,
                                "context": context,
                            },
                            default=False,
                        )
                    ]
                    target = (shown or record_ids)[:1]
                    if not target:
                        self.uncovered.append(f"{where} {model}.{method}: no record")
                        continue
                    selections = [target]
                seen = set()
                for ids in selections:
                    if tuple(ids) in seen:
                        continue
                    seen.add(tuple(ids))
                    self._press(
                        model,
                        method,
                        ids,
                        button_context,
                        where,
                        visible,
                        expect_rows=bool(record_ids),
                    )

    def _walk(self, user):
        self.authenticate(user.login, user.login)
        self.walk_uid = user.id
        self.failures = []
        self.uncovered = []
        self.pressed = set()
        self.pressed_on_rows = set()
        self.windows_seen = set()
        self.to_open = []
        self.views_loaded = 0
        self.downloads = 0
        response = self.url_open("/web/webclient/load_menus/x")
        self.assertEqual(response.status_code, 200)
        menus = response.json()
        actions = {}
        for menu in menus.values():
            xmlid = menu.get("xmlid") or ""
            if xmlid.split(".")[0] in OUR_MODULES and menu.get("actionModel") == (
                "ir.actions.act_window"
            ):
                actions.setdefault(menu["actionID"], menu["name"])
        self.assertGreater(len(actions), 15, "the menus of the three addons")
        for action_id, name in actions.items():
            action, error = self._json("/web/action/load", {"action_id": action_id})
            if not self._check(f"menu {name!r} /web/action/load", error):
                continue
            self.windows_seen.add(
                (
                    action["res_model"],
                    tuple(tuple(v) for v in action.get("views") or ()),
                )
            )
            self._open_window(action, f"menu {name!r}")
        # the windows buttons open (wizards, related lists): one level
        opened, self.to_open = self.to_open, []
        for action, label in opened:
            self._open_window(action, f"{label} =>")
        _logger.info(
            "%s: %d menus, %d views loaded, %d buttons pressed, %d files opened; "
            "not pressed: %s",
            user.login,
            len(actions),
            self.views_loaded,
            len(self.pressed),
            self.downloads,
            self.uncovered,
        )
        return actions

    # ------------------------------------------------------------------ tests
    def test_every_button_manager(self):
        self._walk(self.user_manager)
        self.assertFalse(self.failures, "\n" + "\n".join(self.failures))
        # the buttons issue 13 names are among those pressed
        for key in (
            ("ds.partner.rfm", "action_export_xlsx"),
            ("ds.partner.rfm", "action_refresh_all"),
            ("ds.report.pareto", "action_export_xlsx"),
            ("ds.report.churn", "action_export_xlsx"),
            ("ds.report.income", "action_export_xlsx"),
            ("ds.report.campaign.response", "action_export_xlsx"),
            ("ds.bonus.run", "action_post"),
            ("ds.campaign", "action_assign"),
            ("crm.lead", "action_ds_accept"),
            ("ds.distributor.move", "action_move"),
            ("ds.distributor.export", "action_export"),
            ("ds.distributor.import", "action_import"),
        ):
            self.assertIn(key, self.pressed)
        self.assertGreater(self.downloads, 5)
        # the reports were exported with rows (the files were checked to hold them)
        for model in (
            "ds.partner.rfm",
            "ds.report.pareto",
            "ds.report.churn",
            "ds.report.cohort",
            "ds.report.income",
            "ds.report.campaign.response",
        ):
            self.assertIn((model, "action_export_xlsx"), self.pressed_on_rows)

    def test_every_button_user(self):
        self._walk(self.user_plain)
        self.assertIn(("ds.partner.rfm", "action_export_xlsx"), self.pressed)
        # Recompute RFM is a manager's button: pressed and refused
        self.assertIn(("ds.partner.rfm", "action_refresh_all"), self.pressed)
        self.assertFalse(self.failures, "\n" + "\n".join(self.failures))

    def test_new_distributor_form_draws_no_code(self):
        """Opening a New distributor form (the client's onchange) consumes no code; saving
        draws one."""
        sequence = self.env.ref("crm_direct_selling.seq_ds_distributor")
        self.authenticate(self.user_manager.login, self.user_manager.login)
        before = sequence.number_next_actual
        drawn = re.compile(re.escape(sequence.prefix or "") + r"\d")
        spec = {"code": {}, "name": {}, "sponsor_id": {"fields": {"display_name": {}}}}
        for _i in range(3):
            result, error = self._call_kw(
                "ds.distributor", "onchange", [[], {}, [], spec]
            )
            self.assertFalse(error, error)
            code = result["value"].get("code") or ""
            self.assertFalse(drawn.match(code), f"the New form shows code {code}")
        sequence.invalidate_recordset(["number_next_actual"])
        self.assertEqual(sequence.number_next_actual, before)
        result, error = self._call_kw(
            "ds.distributor",
            "web_save",
            [[], {"name": "DSB Newcomer", "sponsor_id": self.lana.id}],
            {"specification": {"code": {}}},
        )
        self.assertFalse(error, error)
        self.assertTrue(drawn.match(result[0]["code"]), result[0]["code"])
        sequence.invalidate_recordset(["number_next_actual"])
        self.assertEqual(sequence.number_next_actual, before + 1)
