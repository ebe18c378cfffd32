"""Stable path ids: a 64-bit hash of a path's hop ids, as 16 hex characters.

Each distinct id is hashed once with BLAKE2b (salted by the hop it fills, so a user id and a group id never
collide), then the hops of a row are combined with plain 64-bit integer arithmetic in numpy. Nothing depends on
the Python or pandas version or on row order: the same hops give the same id in every snapshot, which is what
reviewers' decisions are keyed on. Missing hops hash to 0.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa

_PRIME = np.uint64(0x100000001B3)
_SEED = np.uint64(0xCBF29CE484222325)



def value_hashes(values, hop: str) -> np.ndarray:
    """uint64 hash of each value (a dimension's ids), 0 for missing."""
    values = np.asarray(values, dtype=object).tolist()  # iterating an arrow-backed column is ~5x slower
    out = np.zeros(len(values), dtype=np.uint64)
    salt = hop.encode() + b"\x1f"
    for position, value in enumerate(values):
        if isinstance(value, str) and value:
            digest = hashlib.blake2b(salt + value.encode("utf-8"), digest_size=8).digest()
            out[position] = int.from_bytes(digest, "big")
    return out


def rehash(hashes: np.ndarray, hop: str) -> np.ndarray:
    """The same values' hashes for another hop (a group as the nested one), without hashing the text again."""
    salt = np.uint64(int.from_bytes(hashlib.blake2b(hop.encode(), digest_size=8).digest(), "big"))
    with np.errstate(over="ignore"):
        out = (hashes ^ salt) * _PRIME
    return np.where(hashes == 0, np.uint64(0), out)


def combine(columns: list[np.ndarray]) -> np.ndarray:
    """Order-sensitive mix of per-row uint64 hop hashes, finished with splitmix64's avalanche."""
    with np.errstate(over="ignore"):
        h = np.full(len(columns[0]) if columns else 0, _SEED, dtype=np.uint64)
        for column in columns:
            h = (h ^ column) * _PRIME
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def hex_ids(hashes: np.ndarray) -> pd.Series:
    """uint64 -> 16 lowercase hex characters, as a pandas string column built straight from bytes (no Python
    string per row)."""
    n = len(hashes)
    raw = hashes.astype(">u8").view(np.uint8).reshape(n, 8)
    chars = np.empty((n, 16), dtype=np.uint8)
    chars[:, 0::2], chars[:, 1::2] = raw >> 4, raw & 15
    chars += 48                                           # "0".."9"
    chars += (chars > 57).view(np.uint8) * np.uint8(39)  # then "a".."f" (arithmetic: faster than a lookup)
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
    array = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
    return pd.Series(pd.array(array, dtype="str"))
