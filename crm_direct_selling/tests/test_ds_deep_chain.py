import logging
import time
from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import DsNetworkCommon

DEPTH = 10000

_logger = logging.getLogger(__name__)


@tagged("post_install", "-at_install")
class TestDsDeepChain(DsNetworkCommon):
    """A one-legged chain 10,000 deep: create, move, terminate, volume step, upline/downline."""

    def test_deep_chain(self):
        started = time.time()
        chain = self._ds_create_chain(DEPTH)
        top, bottom = chain[0], chain[-1]
        self.assertEqual(bottom.depth, DEPTH - 1)
        self.assertTrue(bottom.parent_path.startswith(top.parent_path))
        self.assertEqual(len(top.get_downline()), DEPTH - 1)
        self.assertEqual(len(top.get_downline(depth=3)), 3)
        upline = bottom.get_upline()
        self.assertEqual(len(upline), DEPTH - 1)
        self.assertEqual(upline[0], chain[-2])
        self.assertEqual(upline[-1], top)
        self.assertEqual(top.downline_count, DEPTH - 1)

        # loop refused at any depth
        with self.assertRaises(ValidationError):
            top.action_move(bottom)

        # volume step: PV at the very bottom reaches the top's GV
        period = self._ds_create_period(date(2026, 4, 1), date(2026, 4, 30))
        self._ds_invoice(bottom, date(2026, 4, 2), [(self.product_pv100, 1)])
        self._ds_invoice(top, date(2026, 4, 2), [(self.product_pv10, 1)])
        t0 = time.time()
        period.action_compute_volumes()
        compute_time = time.time() - t0
        self.assertEqual(self._ds_volume(top, period).gv, 110)
        self.assertEqual(self._ds_volume(chain[DEPTH // 2], period).gv, 100)
        self.assertEqual(self._ds_volume(bottom, period).depth, DEPTH - 1)

        # move the lower half (with downline) to a new root
        new_root = self._ds_create_distributor("New root")
        mid = chain[DEPTH // 2]
        mid.action_move(new_root, reason="split")
        self.assertEqual(bottom.depth, DEPTH - 1 - DEPTH // 2 + 1)
        self.assertTrue(bottom.parent_path.startswith(f"{new_root.id}/{mid.id}/"))
        self.assertEqual(len(top.get_downline()), DEPTH // 2 - 1)

        # terminate in the middle of the lower half: the frontline rolls up one level
        victim = chain[DEPTH - 100]
        victim.action_terminate(reason="deep")
        nxt = chain[DEPTH - 99]
        self.assertEqual(nxt.sponsor_id, chain[DEPTH - 101])
        self.assertEqual(bottom.depth, DEPTH - 1 - DEPTH // 2)
        self.assertEqual(len(bottom.get_upline()), bottom.depth)
        self.assertEqual(
            self.env["ds.sponsor.change"].search_count(
                [("reason", "in", ("split", "deep"))]
            ),
            3,
        )

        period.action_compute_volumes()
        self.assertEqual(self._ds_volume(new_root, period).gv, 100)
        self.assertEqual(self._ds_volume(top, period).gv, 10)
        # hierarchy view reads of a deep node
        self.assertTrue(bottom.upline_path)
        self.env["ds.distributor"].search_read(
            [("sponsor_id", "=", mid.id)], ["name", "frontline_ids"]
        )
        total = time.time() - started
        _logger.info(
            f"deep chain {DEPTH}: volume step {compute_time:.2f}s, whole test {total:.2f}s"
        )
