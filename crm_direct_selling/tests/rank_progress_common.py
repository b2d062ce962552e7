"""Random networks and an independent plain-Python evaluation of the rank rules.

Used by the core rank-progress test (every distributor, through ``ds.volume._ds_rank_progress``)
and by the portal's (the ``/my/volume`` page over HTTP). The reference below is written from the
rules in readme/DESCRIPTION.md ("Rank and bonus rules"), in exact rational arithmetic, without
reading anything the volume step computed: PV from the generated invoices, the genealogy and the
statuses from the distributors, the rules from the ranks the test created.
"""

import math
import random
from fractions import Fraction

from odoo import Command

# minimum GV values whose leg caps (min GV x percent, in cents) are exact binary fractions:
# 1000.01 x 25 % = 25000.25 cents, 2500.5 x 50 % = 125025 cents, ...
MIN_GV_CHOICES = [0, 0, 150, 300, 1000, 1000.01, 2500.5, 4000]
MIN_PV_CHOICES = [0, 0, 50, 99.99, 100, 150]
LEG_PCT_CHOICES = [0, 0, 25, 50, 75]
# PV of the products the invoices use (cents: 10000, 1000, 37)
PRODUCT_PV = (100.0, 10.0, 0.37)


def threshold_cents(value):
    """Smallest whole number of cents at least ``value`` (the float read as its decimal)."""
    return math.ceil(Fraction(repr(float(value or 0.0))) * 100)


def create_products(env, tag):
    return [
        env["product.product"].create(
            {
                "name": f"{tag} PV {pv}",
                "list_price": pv,
                "ds_pv": pv,
                "ds_bv": pv / 2,
                "type": "consu",
                "taxes_id": [Command.clear()],
                "supplier_taxes_id": [Command.clear()],
            }
        )
        for pv in PRODUCT_PV
    ]


def create_ranks(env, rng, tag, company):
    """A random ladder of 3 to 5 ranks (the company's other ranks are deactivated)."""
    env["ds.rank"].search(
        ["|", ("company_id", "=", False), ("company_id", "=", company.id)]
    ).write({"active": False})
    ranks = env["ds.rank"]
    for index in range(rng.randint(3, 5)):
        min_gv = rng.choice(MIN_GV_CHOICES) * (index + 1) if index else 0
        vals = {
            "name": f"{tag} R{index + 1}",
            "sequence": 10 * (index + 1),
            "company_id": company.id,
            "min_pv": rng.choice(MIN_PV_CHOICES),
            "min_gv": min_gv,
            "max_leg_pct": rng.choice(LEG_PCT_CHOICES) if min_gv else 0,
            "min_qualified_legs": rng.choice([0, 0, 1, 2, 3]) if index else 0,
            "paid_levels": index + 1,
        }
        if vals["min_qualified_legs"] and ranks and rng.random() < 0.7:
            vals["leg_rank_id"] = rng.choice(ranks).id
        ranks |= env["ds.rank"].create(vals)
    # every ladder has a leg cap and a leg rank somewhere: its top rank
    top = ranks[-1]
    top.write(
        {
            "min_gv": top.min_gv or 1000.01 * len(ranks),
            "max_leg_pct": top.max_leg_pct or rng.choice(LEG_PCT_CHOICES[2:]),
            "min_qualified_legs": top.min_qualified_legs or rng.randint(1, 3),
            "leg_rank_id": top.leg_rank_id.id or rng.choice(ranks[:-1]).id,
        }
    )
    return ranks


def build_network(env, rng, size, tag, period, products, company):
    """``size`` distributors in a random tree (a few wide leaders, long branches), random
    invoices and refunds in ``period`` (some PV negative), a few suspended and terminated
    distributors. Returns (distributors, pv in cents by distributor id)."""
    parents = [None]
    for index in range(1, size):
        # prefer recent nodes (depth) and a few hubs (width)
        if rng.random() < 0.3:
            parents.append(rng.randrange(0, min(index, 4)))
        else:
            parents.append(rng.randrange(max(0, index - 12), index))
    records = []
    Distributor = env["ds.distributor"]
    for index, parent in enumerate(parents):
        records.append(
            Distributor.create(
                {
                    "name": f"{tag} D{index}",
                    "code": f"{tag}-{index}",
                    "sponsor_id": records[parent].id if parent is not None else False,
                    "enrollment_date": period.date_from,
                    "email": f"{tag.lower()}.d{index}@example.com",
                }
            )
        )
    distributors = Distributor.browse([r.id for r in records])
    pv_cents = dict.fromkeys(distributors.ids, 0)
    moves = []
    for dist in distributors:
        roll = rng.random()
        if roll < 0.2:
            continue
        lines = [(p, rng.randint(0, 6)) for p in products]
        lines = [(p, q) for p, q in lines if q]
        if not lines:
            continue
        moves.append(("out_invoice", dist, lines))
        pv_cents[dist.id] += sum(round(p.ds_pv * 100) * q for p, q in lines)
        if rng.random() < 0.15:
            # a refund, sometimes larger than the purchases: negative PV
            product = rng.choice(products)
            qty = rng.randint(1, 8)
            moves.append(("out_refund", dist, [(product, qty)]))
            pv_cents[dist.id] -= round(product.ds_pv * 100) * qty
    invoices = env["account.move"].create(
        [
            {
                "move_type": move_type,
                "partner_id": dist.partner_id.id,
                "invoice_date": period.date_from,
                "date": period.date_from,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": qty,
                            "price_unit": product.list_price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, qty in lines
                ],
            }
            for move_type, dist, lines in moves
        ]
    )
    invoices.action_post()
    others = distributors[1:]
    suspended = others.browse(rng.sample(others.ids, max(1, size // 25)))
    suspended.action_suspend(reason="test")
    rest = others - suspended
    terminated = rest.browse(rng.sample(rest.ids, max(1, size // 30)))
    terminated.action_terminate(reason="test")
    return distributors, pv_cents


def _rules(ladder):
    """The ladder's rules in cents (thresholds rounded up, leg caps exact)."""
    order = {rank.id: index for index, rank in enumerate(ladder)}
    rules = []
    for rank in ladder:
        cap = None
        if rank.max_leg_pct > 0 and rank.min_gv > 0:
            # percent of the minimum GV, in cents: min_gv x 100 x pct / 100
            cap = Fraction(repr(float(rank.min_gv))) * Fraction(
                repr(float(rank.max_leg_pct))
            )
        rules.append(
            {
                "min_pv": threshold_cents(rank.min_pv),
                "min_gv": threshold_cents(rank.min_gv),
                "legs": rank.min_qualified_legs,
                "leg_rank": order[rank.leg_rank_id.id] if rank.leg_rank_id else None,
                "cap": cap,
            }
        )
    return rules


def _requirements(rule, pv, capped, legs):
    """(key, required, counted, met) of each requirement of ``rule`` (0 = none)."""
    rows = []
    if rule["min_pv"] > 0:
        rows.append(("pv", rule["min_pv"], pv, pv >= rule["min_pv"]))
    if rule["min_gv"] > 0:
        rows.append(
            ("gv", rule["min_gv"], math.floor(capped), capped >= rule["min_gv"])
        )
    if rule["legs"] > 0:
        rows.append(("legs", rule["legs"], legs, legs >= rule["legs"]))
    return rows


class _Reference:
    def __init__(self, distributors, pv_cents, rules):
        self.pv = pv_cents
        self.rules = rules
        self.info = {
            d.id: {"sponsor": d.sponsor_id.id, "state": d.state} for d in distributors
        }
        self.children = {did: [] for did in self.info}
        for did, row in self.info.items():
            if row["sponsor"] in self.children:
                self.children[row["sponsor"]].append(did)
        self.gv, self.best_below, self.paid, self.figures = {}, {}, {}, {}
        for did, row in self.info.items():
            if row["sponsor"] not in self.info:
                self.visit(did)

    def is_leg(self, rule, child):
        if self.info[child]["state"] == "terminated":
            return False
        if rule["leg_rank"] is None:
            return self.gv[child] > 0
        best = self.best_below[child]
        return best is not None and best >= rule["leg_rank"]

    def capped(self, rule, did):
        total = Fraction(self.pv[did])
        for child in self.children[did]:
            leg = Fraction(self.gv[child])
            total += leg if rule["cap"] is None else min(leg, rule["cap"])
        return total

    def visit(self, did):
        kids = self.children[did]
        for child in kids:
            self.visit(child)
        pv = self.pv[did]
        self.gv[did] = pv + sum(self.gv[c] for c in kids)
        counted = [
            (self.capped(rule, did), sum(1 for c in kids if self.is_leg(rule, c)))
            for rule in self.rules
        ]
        rank_index = None
        if self.info[did]["state"] != "terminated":
            for index, rule in enumerate(self.rules):
                if all(row[3] for row in _requirements(rule, pv, *counted[index])):
                    rank_index = index
        self.paid[did] = rank_index
        candidates = [
            self.best_below[c] for c in kids if self.best_below[c] is not None
        ]
        if rank_index is not None:
            candidates.append(rank_index)
        self.best_below[did] = max(candidates) if candidates else None
        self.figures[did] = counted


def reference_progress(distributors, pv_cents, ranks):
    """For each distributor id: what the rank rules give, evaluated here in plain Python.

    Returns {id: {"state": progress/top/terminated, "paid": rank or None, "next": rank or None,
    "rows": [(key, required, counted, met)], "gv": uncapped GV}} with volumes in cents."""
    ladder = list(ranks.sorted(lambda r: (r.sequence, r.id)))
    rules = _rules(ladder)
    ref = _Reference(distributors, pv_cents, rules)
    result = {}
    for did, row in ref.info.items():
        paid_index = ref.paid[did]
        entry = {
            "paid": ladder[paid_index] if paid_index is not None else None,
            "next": None,
            "rows": [],
            "gv": ref.gv[did],
            "state": "progress",
        }
        result[did] = entry
        next_index = 0 if paid_index is None else paid_index + 1
        if row["state"] == "terminated":
            entry["state"] = "terminated"
        elif next_index >= len(ladder):
            entry["state"] = "top"
        else:
            entry["next"] = ladder[next_index]
            entry["rows"] = _requirements(
                rules[next_index], ref.pv[did], *ref.figures[did][next_index]
            )
    return result


def make_rng(seed):
    return random.Random(seed)
