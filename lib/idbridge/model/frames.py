"""Column helpers the model modules share: strings as Python objects, masks, case-folded keys, fast membership,
exploded externalId lists (why each is written this way: pandas 3's arrow strings, see each docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def text(series: pd.Series) -> pd.Series:
    """A column as Python strings, None where missing (NaN of pandas 3 string columns, None, float NaN of empty
    parquet columns). Object dtype on purpose: isin / lookups on pandas 3's arrow strings cost about 2 s per 100k
    values, on object dtype a hash lookup."""
    strings = series.astype(object)
    return strings.astype(object).where(strings.notna(), None)


def flag(mask: pd.Series) -> np.ndarray:
    """A boolean mask with missing as False, as a plain array (object-dtype comparisons can hold None)."""
    return mask.fillna(False).astype(bool).to_numpy()


def folded(series: pd.Series) -> pd.Series:
    """Lower-cased, trimmed strings for case-insensitive keys (arrow strings: vectorised)."""
    return series.astype("string").str.strip().str.lower()


def among(values, members) -> np.ndarray:
    """`values.isin(members)` as a bool array, through object dtype on both sides: pandas 3's arrow-string isin
    converts the members one by one in Python (about 2 s per 100k)."""
    left = pd.Index(np.asarray(values, dtype=object), dtype=object)
    return left.isin(pd.Index(np.asarray(members, dtype=object), dtype=object))


def explode_ids(frame: pd.DataFrame, id_column: str, list_column: str) -> pd.DataFrame:
    """(id, externalId) pairs from a list column of external ids (lists, arrays or single strings)."""
    if frame.empty:
        return pd.DataFrame({id_column: pd.Series(dtype=object), "externalId": pd.Series(dtype=object)})
    pairs = frame[[id_column, list_column]].explode(list_column)
    values = pairs[list_column].astype("string").str.strip()
    keep = flag(values.ne(""))
    return pd.DataFrame({id_column: text(pairs[id_column])[keep].to_numpy(),
                         "externalId": text(values)[keep].to_numpy()})
