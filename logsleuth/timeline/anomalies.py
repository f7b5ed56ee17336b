"""Templates whose rate jumps against the quiet part of the evidence, and baseline diffs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from logsleuth.timeline._cols import NAT_MS, to_ms
from logsleuth.timeline.templates import TemplateIndex, TemplateMiner, mine_templates

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class TemplateAnomaly:
    template: str
    baseline_per_min: float
    incident_per_min: float
    ratio: float  # incident / baseline rate (inf when new)
    z: float  # Poisson z-score of the incident count against the baseline rate
    count: int

    def to_json(self) -> dict[str, object]:
        return {"template": self.template, "baseline_per_min": self.baseline_per_min,
                "incident_per_min": self.incident_per_min,
                "ratio": None if np.isinf(self.ratio) else self.ratio, "z": self.z,
                "count": self.count}


def template_anomalies(ts: object, index: TemplateIndex, split_ms: int | None = None, *,
                       min_z: float = 5.0, min_ratio: float = 3.0,
                       weights: np.ndarray | None = None) -> list[TemplateAnomaly]:
    """Templates whose rate after ``split_ms`` (default: mid-evidence) jumped.

    The part before the split is the quiet baseline (use the onset as split).
    ``weights``: events per row, when rows are counts per time bucket.
    """
    t = to_ms(ts)
    ids = index.template_ids
    ok = (t != NAT_MS) & (ids >= 0)
    t, ids = t[ok], ids[ok]
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=np.float64)[ok]
    if len(t) == 0:
        return []
    lo, hi = int(t.min()), int(t.max())
    split = split_ms if split_ms is not None else (lo + hi) // 2
    base_min = max((split - lo) / MINUTE_MS, 1.0)
    inc_min = max((hi - split) / MINUTE_MS, 1.0)
    nt = len(index.templates)
    before = t < split
    base = np.bincount(ids[before], weights=w[before], minlength=nt).astype(np.float64)
    inc = np.bincount(ids[~before], weights=w[~before], minlength=nt).astype(np.float64)
    expected = base / base_min * inc_min
    z = (inc - expected) / np.sqrt(expected + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(base > 0, (inc / inc_min) / (base / base_min), np.inf)
    hot = np.flatnonzero((z >= min_z) & (ratio >= min_ratio))
    out = [TemplateAnomaly(index.templates[i], base[i] / base_min, inc[i] / inc_min,
                           float(ratio[i]), float(z[i]), int(inc[i])) for i in hot]
    out.sort(key=lambda a: -a.z)
    return out


@dataclass(frozen=True, slots=True)
class BaselineDiff:
    new_templates: list[tuple[str, int]]  # (template, count in the incident)
    gone_templates: list[str]
    new_fingerprints: list[str]

    def to_json(self) -> dict[str, object]:
        return {"new_templates": [{"template": t, "count": c} for t, c in self.new_templates],
                "gone_templates": self.gone_templates, "new_fingerprints": self.new_fingerprints}


def _counts(x: TemplateIndex | Mapping[str, int] | Iterable[str]) -> dict[str, int]:
    if isinstance(x, TemplateIndex):
        return {t: int(c) for t, c in zip(x.templates, x.counts, strict=True)}
    if isinstance(x, Mapping):
        return {str(k): int(v) for k, v in x.items()}
    return dict(pd.Series(list(x), dtype=object).value_counts().items())


def compare_baseline(incident_templates: TemplateIndex | Mapping[str, int] | Iterable[str],
                     baseline_templates: TemplateIndex | Mapping[str, int] | Iterable[str], *,
                     incident_fingerprints: Iterable[str] = (),
                     baseline_fingerprints: Iterable[str] = ()) -> BaselineDiff:
    """Templates and fingerprints of the incident that a healthy baseline never had.

    Templates are compared by matching, not string equality: the baseline's
    templates are learned by a miner and each incident template is matched
    against it, so ``took <*> ms`` matches ``took 12 ms``.
    """
    inc, base = _counts(incident_templates), _counts(baseline_templates)
    miner = TemplateMiner()
    miner.add(pa.array(list(base), pa.string()))
    hit = miner.match(pa.array(list(inc), pa.string()))
    new = sorted(((t, c) for (t, c), h in zip(inc.items(), hit, strict=True) if h < 0),
                 key=lambda tc: -tc[1])
    back = TemplateMiner()
    back.add(pa.array(list(inc), pa.string()))
    gone_hit = back.match(pa.array(list(base), pa.string()))
    gone = [t for t, h in zip(base, gone_hit, strict=True) if h < 0]
    seen = set(baseline_fingerprints)
    new_fp = sorted({f for f in incident_fingerprints if f not in seen})
    return BaselineDiff(new, gone, new_fp)


def mine_and_compare(incident_messages: Iterable[str], baseline_messages: Iterable[str],
                     ) -> BaselineDiff:
    """Convenience: mine both message sets, then ``compare_baseline``."""
    return compare_baseline(mine_templates(list(incident_messages)),
                            mine_templates(list(baseline_messages)))
