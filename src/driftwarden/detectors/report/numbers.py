"""Numbers for people: statistics, percentages and axis ticks that read well at a glance."""

from __future__ import annotations

import math

_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def format_number(value: float | None, digits: int = 4, missing: str = "–") -> str:
    """A statistic for people: fixed digits, scientific when tiny or huge, ``missing`` for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    if value != 0 and abs(value) < 10**-digits:
        return f"{value:.2e}"
    if abs(value) >= 1e6:
        return f"{value:.{digits}g}"  # 1e+308, not 309 digits
    return f"{value:.{digits}f}"


def format_p(value: float | None) -> str:
    """A p-value; one that underflowed to 0 reads as what it is, a bound."""
    if value == 0:
        return "< 1e-300"
    return format_number(value)


def format_count(value: int) -> str:
    """A row count with thousands separators (``1,000,000``)."""
    return f"{value:,}"


def format_share(value: float, digits: int = 1) -> str:
    """A share as a percentage; tiny non-zero shares say so instead of reading ``0.0%``."""
    if not math.isfinite(value):
        return "–"
    if 0 < value < 10 ** -(digits + 2):
        return f"<{10**-digits:g}%"
    return f"{100 * value:.{digits}f}%"


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 × 10^k) covering ``[lo, hi]``, about ``target`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(target, 1)
    if not math.isfinite(raw) or raw <= 0:
        return [lo, hi]
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks: list[float] = []
    k = first
    while k * step <= hi * (1 + 1e-12) + 1e-300 and len(ticks) < 4 * target:
        ticks.append(0.0 if abs(k * step) < step * 1e-9 else k * step)
        k += 1
    return ticks


def tick_label(value: float, step: float) -> str:
    """A tick value with just the digits its spacing needs (``0.25``, ``1.5k``, ``2e-05``)."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    step = abs(step) or magnitude
    # significant digits that tell this tick from its neighbours
    digits = max(1, math.floor(math.log10(magnitude)) - math.floor(math.log10(step)) + 1)
    if magnitude >= 1e15 or magnitude < 1e-4:
        return f"{value:.{digits}g}"
    for size, suffix in _SUFFIXES:
        if (
            magnitude >= size
            and step >= size / 1000
            and (magnitude >= 10 * size or step >= size / 10)
        ):
            return f"{_trim(value / size, step / size)}{suffix}"
    decimals = max(0, -math.floor(math.log10(step)))
    if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1  # a step of 0.25 needs two decimals, not one
    if decimals > 6:
        return f"{value:.{digits + 1}g}"
    return f"{value:.{decimals}f}"


def _trim(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step)))
    if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-9:
        decimals += 1
    return f"{value:.{decimals}f}"
