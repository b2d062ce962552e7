"""What a step of the bonus engine may know about the run it computes.

A step gets an :class:`EngineContext` and reads/writes the temp tables of the run
(``ds_bt_*``, see ``sql.py``) through ``ctx.cr``; it never calls back into the run record
(``ds.bonus.run``): the run builds the context, calls :func:`..engine.compute` and writes
the figures it returns."""

from odoo.tools import SQL


class EngineContext:
    """The run being computed, as plain values (plus the plan and period records, read only).

    - ``env``, ``cr``: the run's environment and cursor
    - ``plan``, ``period``: ``ds.plan`` and ``ds.period`` records of the run
    - ``run_id``, ``company_id``: ids written on the bonus lines
    - ``currency``: the company currency (``round``/``compare_amounts`` of the cap)
    - ``digits``: its decimal places; ``unit``: SQL of its smallest unit (0.01::numeric)
    - ``previous_run``: the live posted run of the plan for the period before (or empty)
    - ``progress(value)``: reports the job's progress in percent (no-op outside a job)
    - ``stats``: figures of the run filled by the cap and final steps
    - ``volumes_fresh``: the volume step of the (open) period ran just before, in this
      transaction (with what it derives, such as the binary volumes of the company's
      placement plan), so a step need not recompute them
    """

    def __init__(
        self,
        env,
        plan,
        period,
        run_id,
        company_id,
        currency,
        previous_run,
        progress,
        volumes_fresh=False,
    ):
        self.env = env
        self.cr = env.cr
        self.plan = plan
        self.period = period
        self.run_id = run_id
        self.company_id = company_id
        self.currency = currency
        self.digits = currency.decimal_places
        self.unit = SQL("%s::numeric", 10**-self.digits)
        self.previous_run = previous_run
        self._progress = progress
        self.volumes_fresh = volumes_fresh
        self.stats = {}

    def progress(self, value):
        if self._progress:
            self._progress(value)
