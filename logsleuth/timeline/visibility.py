"""What a gauge can show: its printed resolution and whether a count's variation shows in it.

A steady event rate and the clock are the same model: whether an event's count varies
enough to tell them apart is a question about the gauge, not a fixed share of the count.
A reading is off by up to one printed step (``resolution``), and the gauge has noise of its
own (a JDK pool's 8 KiB chunks, garbage not yet collected); ``visible`` weighs the spread
of a count, at its amount per event, against both.
"""

from __future__ import annotations

import math

import numpy as np


def reading_error(quantum: float) -> float:
    """The spread (sd) of an increment's error on a gauge printed in steps of ``quantum``:
    each of its two readings is off by up to one step, uniformly: quantum / sqrt(6)."""
    return quantum / math.sqrt(6.0)


TOO_STEADY = (": its count is too steady for this gauge to show it, so growth per event and "
              "growth per unit of time cannot be told apart (as at a constant event rate)")


SHOWS = 0.5  # share of the increments' variance a count's variation must be able to explain
            # (the R² a fit needs, ``explain_increments``' min_r2)


def visible(x: np.ndarray, amount: np.ndarray | float, quantum: float,
            y: np.ndarray | None = None) -> np.ndarray:
    """Whether each candidate's count variation can show in the gauge. At its amount per
    event (through the origin: the level the events explain), the spread of its count per
    window moves the increments by ``amount x sd``; that must exceed the gauge's reading
    error (``reading_error``, when the gauge's steps are coarser than one event's amount)
    to be fitted at all; with the increments ``y`` given, it must
    also be able to explain at least ``SHOWS`` of their variance, the rest being the gauge's
    noise (a pool's 8 KiB chunks, garbage not yet collected): else no fit of it can pass,
    and a rejection says the count is too steady for the gauge, not that it fits weakly.
    Counts that vary less leave growth per event and growth per unit of time
    indistinguishable however a fit comes out. Grounded in the
    measurement, not a fixed share of the count: ±3 sessions of 256 B a second are plain
    on netty's exact counter and lost in a JDK pool's chunks; a count varying by 4.9 % and
    one varying by 5.1 % are judged alike."""
    x = np.atleast_2d(np.asarray(x, np.float64).T).T
    sd = x.std(axis=0)
    amount = np.abs(np.asarray(amount, np.float64))
    moved = amount * sd
    # steps no coarser than one event's amount may be the events' own (an exact counter of
    # 1 KiB buffers prints whole KiB): every event shows, so no reading error applies
    shows = (sd > 0) & ((moved > reading_error(quantum)) | (amount >= quantum))
    return shows if y is None else shows & (moved * moved >= SHOWS * float(np.var(y)))


def flat_words(x: np.ndarray, amount: float, quantum: float, y: np.ndarray,
                unit: str = "") -> str:
    """How little a count varies, in the gauge's own terms (``visible``)."""
    u = f" {unit}" if unit else ""
    sd = float(x.std())
    cv = sd / float(x.mean()) if x.mean() > 0 else 0.0
    moved = abs(amount) * sd
    spread = float(np.std(y))
    return (f"varies by {100 * cv:.1f} % (cv; {sd:.3g} events sd) per gauge interval over "
            f"{len(x)} intervals: at {amount:.4g}{u} per event that moves the gauge by "
            f"{moved:.4g}{u} (sd), against increments spread by {spread:.4g}{u} (sd; "
            f"{100 * SHOWS:g} % of their variance needed) and a reading error of "
            f"{reading_error(quantum):.4g}{u} (printed in steps of {quantum:.4g}{u})")


def resolution(values: object) -> float:
    """The gauge's printed resolution: the greatest common divisor of its readings'
    differences when they are whole numbers (1024 for a monitor printing whole KiB, 1 MiB
    for a GC summary in whole MiB), else 0. Each reading is off by up to one of it, so an
    increment between two readings is too: growth within it is rounding, not a regime.
    On an exact gauge it is at most one event's amount (a multiple of it in every step)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2 or np.abs(v).max() >= 2.0 ** 62:
        return 0.0
    d = np.abs(np.diff(v))
    d = d[d > 0]
    if not len(d) or np.abs(d - np.round(d)).max() > 1e-6:
        return 0.0
    return float(np.gcd.reduce(np.round(d).astype(np.int64)))
