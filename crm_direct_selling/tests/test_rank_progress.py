from datetime import date

from odoo.tests import tagged

from .common import DsNetworkCommon
from .rank_progress_common import (
    build_network,
    create_products,
    create_ranks,
    make_rng,
    reference_progress,
)


def progress_tuples(progress):
    """(state, paid rank, next rank, rows in cents) of ds.volume._ds_rank_progress()."""
    rows = [
        (
            row["key"],
            row["required"] if row["integer"] else round(row["required"] * 100),
            row["actual"] if row["integer"] else round(row["actual"] * 100),
            row["met"],
        )
        for row in progress["rows"]
    ]
    return (
        progress["state"],
        progress["paid_rank"] or None,
        progress["next_rank"] or None,
        rows,
    )


def reference_tuples(entry):
    return (entry["state"], entry["paid"], entry["next"], entry["rows"])


@tagged("post_install", "-at_install")
class TestRankProgress(DsNetworkCommon):
    """Rank progress (``ds.volume._ds_rank_progress``, what every screen shows) agrees with an
    independent evaluation of the rank rules on random networks, for every distributor."""

    def _check_network(self, seed, size, month):
        rng = make_rng(seed)
        tag = f"RP{seed}"
        period = self._ds_create_period(
            date(2031, month, 1), date(2031, month, 28), name=f"{tag} period"
        )
        products = create_products(self.env, tag)
        ranks = create_ranks(self.env, rng, tag, self.company)
        distributors, pv_cents = build_network(
            self.env, rng, size, tag, period, products, self.company
        )
        period.action_compute_volumes()
        self.env.invalidate_all()
        reference = reference_progress(distributors, pv_cents, ranks)
        volumes = self.Volume.search(
            [("period_id", "=", period.id), ("distributor_id", "in", distributors.ids)]
        )
        by_distributor = {v.distributor_id.id: v for v in volumes}
        top = ranks.sorted(lambda r: (r.sequence, r.id))[-1]
        checked = not_met = 0
        for dist in distributors:
            expected = reference[dist.id]
            volume = by_distributor.get(dist.id)
            if not volume:
                # only a terminated distributor without volume has no row
                self.assertEqual(expected["state"], "terminated", dist.name)
                self.assertEqual(pv_cents[dist.id], 0, dist.name)
                continue
            self.assertEqual(round(volume.pv * 100), pv_cents[dist.id], dist.name)
            self.assertEqual(round(volume.gv * 100), expected["gv"], dist.name)
            got = progress_tuples(volume._ds_rank_progress())
            self.assertEqual(
                got,
                reference_tuples(expected),
                f"seed {seed}: {dist.name} (paid as {volume.paid_rank_id.name})",
            )
            # the engine would have paid a next rank whose requirements were all met
            if volume.paid_rank_id and volume.paid_rank_id != top:
                self.assertFalse(all(row[3] for row in got[3]), dist.name)
            checked += 1
            not_met += any(not row[3] for row in got[3])
        # the lifecycle mails' "PV to the next rank" reads the same next rank and PV
        partners = distributors.partner_id.with_context(
            ds_lifecycle_today=period.date_from
        )
        for dist in distributors:
            expected = reference[dist.id]
            partner = partners.browse(dist.partner_id.id)
            pv_row = [row for row in expected["rows"] if row[0] == "pv"]
            self.assertEqual(
                (
                    partner.ds_next_rank_id or None,
                    round(partner.ds_pv_to_next_rank * 100),
                ),
                (
                    expected["next"],
                    max(0, pv_row[0][1] - pv_row[0][2]) if pv_row else 0,
                ),
                f"seed {seed}: {dist.name}",
            )
        # the networks are not degenerate: ranks reached and requirements missed both happen
        self.assertGreater(checked, size // 2)
        self.assertTrue(volumes.paid_rank_id, f"seed {seed}: no rank reached")
        self.assertGreater(not_met, 0)
        return volumes

    def test_random_networks(self):
        for seed, size, month in ((11, 30, 1), (12, 90, 2), (13, 300, 3), (14, 150, 4)):
            with self.subTest(seed=seed, size=size):
                self._check_network(seed, size, month)

    def test_recompute_keeps_progress(self):
        """A recompute (only the difference written) stores the same next-rank figures."""
        volumes = self._check_network(21, 60, 5)
        before = {v.id: (v.next_gv, v.qualified_legs) for v in volumes}
        volumes.period_id.action_compute_volumes()
        self.env.invalidate_all()
        self.assertEqual(
            {v.id: (v.next_gv, v.qualified_legs) for v in volumes.exists()}, before
        )

    def test_labels_name_the_figures(self):
        """Every progress row says what it counts: the leg rank and the leg cap of the next rank."""
        rank = self.rank_silver  # legs of T-Bronze or higher, leg cap 60 %
        labels = self.Volume._ds_progress_labels(rank)
        self.assertEqual(labels["gv"], "GV counted for next rank (leg cap 60%)")
        self.assertEqual(labels["legs"], "Legs toward next rank (T-Bronze or higher)")
        labels = self.Volume._ds_progress_labels(self.rank_bronze)
        self.assertEqual(labels["gv"], "GV counted for next rank (no leg cap)")
        self.assertEqual(
            labels["legs"], "Legs toward next rank (legs with group volume)"
        )
        self.assertEqual(
            self.Volume._fields["qualified_legs"].string, "Legs toward next rank"
        )
        self.assertEqual(
            self.Volume._fields["next_gv"].string, "GV counted for next rank"
        )
