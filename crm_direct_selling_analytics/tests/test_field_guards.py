"""Guards over every field our three addons define (issue 13).

* A grouped list, pivot or graph sums a numeric field unless told otherwise: rates,
  percentages, scores, levels, ratios, p-values, years and ids must not be summed
  (a "Rate" of 30,735 on grouped bonus lines).
* A field without ``string=`` gets its label from its name ("uplift_ci_low" reads
  "Uplift Ci Low"): abbreviations must be spelled as users read them.
"""

import re

from lxml import etree

from odoo.tests import TransactionCase, tagged

OUR_MODULES = (
    "crm_direct_selling",
    "crm_direct_selling_analytics",
    "crm_direct_selling_portal",
)

# a numeric field whose name holds one of these words measures no quantity that adds up
NOT_ADDITIVE = re.compile(
    r"(^|_)(rate|rates|pct|percent|percentage|score|scores|level|levels|ratio|p_value|"
    r"pvalue|year|years|id|ids|sequence|mean|median|avg|average|uplift|ci|roi|p10|p25|p75|"
    r"p90|percentile|relative|gini|depth|slot|per_member|probability|p_alive|mde|lift|"
    r"share)(_|$)"
)
# (model, field): numeric fields matched by the pattern above that do add up, and why
ADDITIVE_EXCEPTIONS = {
    # each customer's share of the revenue: the shares of a group add up to its share
    ("ds.report.pareto", "share"): "shares of one total add up",
}

# title-cased abbreviations an auto-generated label would show
BAD_LABEL_WORDS = {
    "Ci",
    "Roi",
    "Pv",
    "Bv",
    "Gv",
    "Rfm",
    "Srm",
    "Id",
    "Ids",
    "Mde",
    "Utm",
    "Xlsx",
    "Csv",
    "Pdf",
    "Url",
    "Sms",
    "Cuped",
    "Abc",
    "Kpi",
    "Vat",
    "Ltv",
    "Clv",
    # "Qini" itself is a name (Radcliffe's Qini curve), spelled so: the "Auc" entry catches the
    # auto-generated "Qini Auc"
    "Auc",
}


@tagged("post_install", "-at_install")
class TestFieldGuards(TransactionCase):
    maxDiff = None

    def _our_fields(self):
        for model_name in sorted(self.env.registry.models):
            model = self.env[model_name]
            for field in model._fields.values():
                if field._module in OUR_MODULES:
                    yield model_name, field

    def test_no_sum_of_rates_levels_scores_years(self):
        offenders = []
        seen = set()
        for model_name, field in self._our_fields():
            if field.type not in ("integer", "float", "monetary"):
                continue
            if not (field.store or field.related):
                continue
            if (model_name, field.name) in ADDITIVE_EXCEPTIONS:
                seen.add((model_name, field.name))
                continue
            aggregator = field._description_aggregator(self.env)
            if aggregator == "sum" and NOT_ADDITIVE.search(field.name):
                offenders.append(f"{model_name}.{field.name}")
        self.assertEqual(offenders, [], "summed although they do not add up")
        self.assertEqual(
            seen,
            set(ADDITIVE_EXCEPTIONS),
            "an exception no longer names an existing summed field",
        )

    def test_no_view_sums_rates(self):
        """A list column's ``sum=`` footer over a field that does not add up."""
        views = self.env["ir.ui.view"].search(
            [("model_data_id.module", "in", OUR_MODULES), ("type", "=", "list")]
        )
        offenders = []
        for view in views:
            for node in etree.fromstring(view.arch_db).iter("field"):
                name = node.get("name", "")
                if node.get("sum") and NOT_ADDITIVE.search(name):
                    offenders.append(f"{view.xml_id}: {name}")
        self.assertTrue(views)
        self.assertEqual(offenders, [])

    def test_bonus_line_rate_and_level_not_summed(self):
        fields = self.env["ds.bonus.line"].fields_get(
            ["rate", "level", "base", "amount"]
        )
        self.assertEqual(fields["amount"].get("aggregator"), "sum")
        self.assertEqual(fields["base"].get("aggregator"), "sum")
        self.assertNotEqual(fields["rate"].get("aggregator"), "sum")
        self.assertNotEqual(fields["level"].get("aggregator"), "sum")

    def test_labels_spell_abbreviations(self):
        offenders = []
        for model_name, field in self._our_fields():
            words = set(re.findall(r"[A-Za-z]+", field.string or ""))
            bad = words & BAD_LABEL_WORDS
            if bad:
                offenders.append(f"{model_name}.{field.name}: {field.string!r}")
        self.assertEqual(offenders, [], "labels with abbreviations spelled like words")
