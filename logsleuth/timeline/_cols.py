"""Column helpers shared by the timeline modules: one clock (epoch ms, int64)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

NAT_MS = np.iinfo(np.int64).min


def to_ms(values: object) -> np.ndarray:
    """Epoch milliseconds (int64) from datetime64 (any unit, tz or not), Arrow or ints.

    Missing times become ``NAT_MS`` so callers can mask them with ``ms != NAT_MS``.
    """
    if isinstance(values, pa.ChunkedArray | pa.Array):
        values = values.to_pandas()
    if isinstance(values, pd.Series | pd.Index):
        s = values
        if isinstance(s.dtype, pd.ArrowDtype):
            s = s.astype(s.dtype.numpy_dtype if not pa.types.is_timestamp(s.dtype.pyarrow_dtype)
                         else f"datetime64[{s.dtype.pyarrow_dtype.unit}, UTC]"
                         if s.dtype.pyarrow_dtype.tz else
                         f"datetime64[{s.dtype.pyarrow_dtype.unit}]")
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
            out = s.astype("datetime64[ms, UTC]" if isinstance(s.dtype, pd.DatetimeTZDtype)
                           else "datetime64[ms]")
            arr = out.to_numpy(dtype="datetime64[ms]", na_value=np.datetime64("NaT"))
            return arr.view(np.int64)
        arr = s.to_numpy(dtype="float64", na_value=np.nan)
        out_i = np.full(arr.shape, NAT_MS, dtype=np.int64)
        ok = ~np.isnan(arr)
        out_i[ok] = arr[ok].astype(np.int64)
        return out_i
    arr = np.asarray(values)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[ms]").view(np.int64)
    return arr.astype(np.int64, copy=False)


def weights(df: pd.DataFrame) -> np.ndarray:
    """Records each row stands for: its ``count`` column (rows grouped per class and
    second by the scan), else one per row (a table of every record)."""
    if "count" in df.columns:
        return df["count"].to_numpy(dtype=np.float64, na_value=1.0)
    return np.ones(len(df), dtype=np.float64)


def col(df: pd.DataFrame, name: str) -> pd.Series | None:
    """The column ``name`` or None when the table lacks it."""
    return df[name] if name in df.columns else None


def str_or_none(values: Sequence[object] | pd.Series) -> list[str | None]:
    """Python strings with pandas/Arrow missing values mapped to None."""
    return [None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
            else str(v) for v in values]
