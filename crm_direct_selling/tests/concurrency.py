"""Concurrent sessions for tests: each call in its own connection and thread (real
separate transactions), retried on serialization failures and deadlocks as Odoo retries a
request. Shared by the sponsor-tree and placement-tree concurrency tests."""

import random
import threading
import time

import psycopg2

from odoo import api, sql_db
from odoo.exceptions import ValidationError

RETRIES = 5


def run_in_threads(dbname, uid, calls):
    """Run each ``call(env)`` in its own connection and thread, all starting together after
    each has taken its snapshot. Returns one outcome per call: 'ok', 'refused' (a
    ValidationError) or the name of an unexpected exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        first = True
        for attempt in range(RETRIES):
            with sql_db.db_connect(dbname).cursor() as cr:
                env = api.Environment(cr, uid, {})
                try:
                    # fix this transaction's snapshot before the others commit
                    cr.execute("SELECT count(*) FROM ds_distributor")
                    if first:
                        first = False
                        barrier.wait(timeout=30)
                    call(env)
                    cr.commit()  # pylint: disable=invalid-commit
                    outcomes[index] = "ok"
                    return
                except ValidationError:
                    cr.rollback()
                    outcomes[index] = "refused"
                    return
                except (
                    psycopg2.errors.SerializationFailure,
                    psycopg2.errors.DeadlockDetected,
                ) as exc:
                    cr.rollback()
                    outcomes[index] = type(exc).__name__
                    # as Odoo's retry of a request (odoo.service.model.retrying):
                    # a random wait growing with the tries, so that writers that
                    # collided do not collide again at once (without it, 5 tries in
                    # a row were used up on the loaded CI machine)
                    if attempt < RETRIES - 1:
                        time.sleep(random.uniform(0.0, 2 ** (attempt + 1)))
                except Exception as exc:  # noqa: BLE001 - reported to the test
                    cr.rollback()
                    outcomes[index] = f"{type(exc).__name__}: {exc}"
                    return

    threads = [
        threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes
