"""The bonus engine: set-based computation of a run's lines, one module per bonus type.

Order of a computation (:func:`compute`): snapshot.prepare (volumes, clawed back refunds,
empty line tables), the registered steps by sequence (registry.py: retail, fast_start,
unilevel, binary, matrix, rank_advancement, matching, carry_forward, adjustment),
cap.apply_cap (payout
cap), finalize.write_lines (minimum payout, held payouts, INSERT of ds_bonus_line)."""

from . import (  # noqa: F401  (each module registers its step)
    binary,
    carry_forward,
    clawback,
    fast_start,
    matching,
    matrix,
    rank_advancement,
    retail,
    unilevel,
)
from .cap import apply_cap
from .context import EngineContext
from .finalize import write_lines
from .matching import MATCHING_SEQUENCE
from .registry import register, steps, unregister
from .snapshot import prepare

__all__ = ["EngineContext", "compute", "register", "steps", "unregister"]


def compute(ctx):
    """Compute the lines of the run of ``ctx``; return its figures (see finalize.py)."""
    registered = steps(ctx.env)
    for step in registered:
        if step.matched and step.sequence >= MATCHING_SEQUENCE:
            raise ValueError(
                f"Bonus type {step.bonus_type!r} is matched: its sequence must be below "
                f"{MATCHING_SEQUENCE} (leadership matching)."
            )
    prepare(ctx)
    for step in registered:
        step.func(ctx)
        if step.progress is not None:
            ctx.progress(step.progress)
    apply_cap(ctx)
    return write_lines(ctx)
