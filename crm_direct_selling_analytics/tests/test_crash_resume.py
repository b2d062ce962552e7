"""A segment refresh killed mid-way leaves the previous snapshot whole.

Real processes on committed data, like crm_direct_selling's test_crash_resume (whose
helpers this reuses): a cron worker process refreshes the RFM scores and the segments
(``ds.segment._cron_refresh``, one transaction); it is killed with SIGKILL after it has
written the scores and the members of every segment, before it could commit. The
committed snapshot is the previous one, member for member; the next worker brings it
up to date.
"""

import logging
import os
import signal
import time
from datetime import date

from odoo.tests import tagged

from odoo.addons.crm_direct_selling.tests.test_crash_resume import CrashCase, wait_for

_logger = logging.getLogger(__name__)

CRON = "crm_direct_selling_analytics.ir_cron_ds_segment_refresh"


@tagged("post_install", "-at_install")
class TestSegmentCrashResume(CrashCase):
    def _members(self, cr, segment_ids):
        cr.rollback()  # a fresh snapshot of the committed state
        cr.execute(
            """SELECT segment_id, array_agg(partner_id ORDER BY partner_id)
                 FROM ds_segment_member WHERE segment_id = ANY(%s) GROUP BY 1""",
            [segment_ids],
        )
        return {seg: set(partners) for seg, partners in cr.fetchall()}

    def _rfm_count(self, cr, after_partner):
        cr.rollback()
        cr.execute(
            "SELECT COUNT(*) FROM ds_partner_rfm WHERE partner_id > %s", [after_partner]
        )
        return cr.fetchone()[0]

    def test_segment_refresh_crash_resume(self):
        env, gen, before, _made = self._committed_network(3000, date.today(), seed=5)
        cr = env.cr
        Segment = env["ds.segment"]
        segments = Segment.create(
            [
                {"name": "Crash A", "partner_type": "distributor"},
                {"name": "Crash B", "partner_type": "distributor", "m_score_min": 4},
            ]
        )
        seg_a, seg_b = segments
        ids = segments.ids

        def cleanup(c):
            c.execute("DELETE FROM ds_segment_member WHERE segment_id = ANY(%s)", [ids])
            self._delete_mail(c, "ds.segment", ids)
            c.execute("DELETE FROM ds_segment WHERE id = ANY(%s)", [ids])
            c.execute(
                "DELETE FROM ds_partner_rfm WHERE partner_id > %s",
                [before["res_partner"]],
            )

        self.extra_cleanups.append(cleanup)
        cron = env.ref(CRON)
        cron._trigger()
        cr.commit()  # pylint: disable=invalid-commit

        # 1. a first refresh, run to its end: the snapshot S1
        worker = self._cron_worker("segments1", CRON)
        self.assertEqual(worker.wait(180), 0, self._log(worker))
        s1 = self._members(cr, ids)
        self.assertEqual(len(s1[seg_a.id]), 3000)
        self.assertTrue(0 < len(s1[seg_b.id]) < 3000, len(s1.get(seg_b.id, ())))
        rfm_rows = self._rfm_count(cr, before["res_partner"])
        self.assertGreaterEqual(rfm_rows, 3000)
        env.invalidate_all()
        self.assertEqual(seg_a.member_count, 3000)
        refreshed_a = seg_a.last_refresh

        # 2. the network changes: 500 distributors leave (archived), the snapshot must
        #    lose them on the next refresh
        gone = sorted(s1[seg_a.id])[:500]
        env["res.partner"].browse(gone).write({"active": False})
        cron._trigger()
        cr.commit()  # pylint: disable=invalid-commit

        # 3. a refresh killed after it wrote the scores and every segment's members:
        #    a share lock on the last segment's row stops it at its last write
        lock_cr = self._real_cursor()
        lock_cr.execute("SELECT id FROM ds_segment WHERE id = %s FOR SHARE", [max(ids)])
        watch = self._real_cursor()
        worker = self._cron_worker("segments2", CRON)
        pid = self._wait_blocked(watch, lock_cr, worker)
        written = self._written_tables(watch, pid)
        self.assertTrue({"ds_partner_rfm", "ds_segment_member"} <= written, written)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        lock_cr.rollback()  # the dead job's statement ends, its transaction with it

        def backend_gone():
            watch.rollback()
            watch.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            return watch.fetchone()[0] == 0

        wait_for(backend_gone, 30, "the dead worker's transaction is still open")
        # the committed snapshot is S1, whole
        self.assertEqual(self._members(cr, ids), s1)
        self.assertEqual(self._rfm_count(cr, before["res_partner"]), rfm_rows)
        env.invalidate_all()
        self.assertEqual(seg_a.member_count, 3000)
        self.assertEqual(seg_a.last_refresh, refreshed_a)

        # 4. the next worker refreshes everything (the trigger is still pending)
        started = time.monotonic()
        worker = self._cron_worker("segments3", CRON)
        self.assertEqual(worker.wait(180), 0, self._log(worker))
        s2 = self._members(cr, ids)
        self.assertEqual(s2[seg_a.id], s1[seg_a.id] - set(gone))
        env.invalidate_all()
        self.assertEqual(seg_a.member_count, 2500)
        self.assertGreater(seg_a.last_refresh, refreshed_a)
        for segment in segments:
            cr.execute(segment._members_query())
            self.assertEqual(
                s2.get(segment.id, set()), {row[0] for row in cr.fetchall()}
            )
        cr.rollback()
        _logger.info(
            f"\nsegment crash test: resumed refresh {time.monotonic() - started:.1f} s"
        )
