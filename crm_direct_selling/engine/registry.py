"""The bonus types the engine computes, keyed by ``bonus_type``.

Each bonus type is one step: a function ``step(ctx)`` (ctx: context.EngineContext) that
inserts its lines into the temp table ``ds_bt_line`` (see sql.py for the tables a step may
read), registered with :func:`register`. The engine runs the snapshot (snapshot.py), then
the registered steps by ``sequence``, then the payout cap (cap.py) and the final write
(finalize.py). Another addon adds a bonus type by registering one step, adding its plan
fields and a ``selection_add`` on ``ds.bonus.line.bonus_type`` (and, to see its total on the
run, an ``amount_<type>`` Monetary field on ``ds.bonus.run``).
"""

from collections import namedtuple

Step = namedtuple(
    "Step", "bonus_type sequence func capped matched clawback progress module"
)

_STEPS = {}


def register(
    bonus_type, sequence, *, capped=True, matched=False, clawback=False, progress=None
):
    """Decorator registering ``func(ctx)`` as the step computing ``bonus_type``.

    - ``sequence``: order of the steps (retail 10, fast start 20, unilevel 30, rank
      advancement 40, matching 50, carry forward 60, adjustments 90)
    - ``capped``: the payout cap scales its lines (carry forward and adjustments: not)
    - ``matched``: its rounded earnings per earner are the base of leadership matching
      (must run before matching, sequence < 50)
    - ``clawback``: its lines of an earlier run are clawed back (adjustments) when the
      source's invoices are refunded (the pro-rating base per type is in clawback.py)
    - ``progress``: progress of the job (percent) reported once the step is done
    """

    def decorate(func):
        current = _STEPS.get(bonus_type)
        if current and current.module != func.__module__:
            raise ValueError(f"Bonus type {bonus_type!r} is already registered.")
        _STEPS[bonus_type] = Step(
            bonus_type,
            sequence,
            func,
            capped,
            matched,
            clawback,
            progress,
            func.__module__,
        )
        return func

    return decorate


def unregister(bonus_type):
    """Remove a step (tests, or an addon replacing a type by its own step)."""
    return _STEPS.pop(bonus_type, None)


def addon_of(step):
    """The addon whose code registered ``step`` (``odoo.addons.<addon>.…``), or None."""
    parts = step.module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["odoo", "addons"] else None


def steps(env=None):
    """The registered steps by sequence; with ``env``, only those of addons installed in
    its database (one server process serves several databases, and an addon's Python
    code stays imported in the process for all of them)."""
    found = sorted(_STEPS.values(), key=lambda s: (s.sequence, s.bonus_type))
    if env is None:
        return found
    installed = env["ir.module.module"]._installed()
    return [s for s in found if addon_of(s) is None or addon_of(s) in installed]


def get(bonus_type):
    return _STEPS.get(bonus_type)


def capped_types(env=None):
    return tuple(s.bonus_type for s in steps(env) if s.capped)


def matched_types(env=None):
    return tuple(s.bonus_type for s in steps(env) if s.matched)


def clawback_types(env=None):
    return tuple(s.bonus_type for s in steps(env) if s.clawback)
