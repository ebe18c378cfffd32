"""A delta round applied to the previous table gives the table a full read would: the same rows and, written to
parquet, the same column types (pandas types a column from its values, so a table stitched from kept rows and
rebuilt ones could otherwise be written differently)."""

from __future__ import annotations

import copy

import pyarrow.parquet as pq

from idbridge.collect.entra import delta
from idbridge.collect.entra.collectors import users_frame
from idbridge.collect.entra.frames import columns_of

COLUMNS = columns_of("entra_users")


def user(i: int, **extra) -> dict:
    return {"id": f"u{i}", "userPrincipalName": f"u{i}@example.com", "displayName": f"User {i}",
            "accountEnabled": True, "createdDateTime": "2026-01-01T00:00:00.1234Z", "businessPhones": [],
            "otherMails": [f"u{i}@other.example"] if i % 2 else [], **extra}


def written(frame, path):
    frame.to_parquet(path, index=False)
    return pq.read_table(path)


def test_applied_round_equals_a_full_read_in_rows_and_parquet_types(tmp_path):
    before = [user(i) for i in range(20)]
    before[3]["companyName"] = "Contoso"  # the only non-null value of its column
    previous = written(users_frame(before), tmp_path / "previous.parquet").to_pandas()
    after = {u["id"]: copy.deepcopy(u) for u in before}
    items = [
        {"id": "u3", "displayName": "User 3", "companyName": None},  # the column is all null again
        {"id": "u5", "displayName": "Renamed", "jobTitle": "Dev"},   # a column gets its first value
        {"id": "u7", "@removed": {"reason": "deleted"}},
        {**user(99), "mobilePhone": "+1 555 0100"},
    ]
    del after["u7"]
    after["u3"]["companyName"] = None
    after["u5"].update(displayName="Renamed", jobTitle="Dev")
    after["u99"] = {**user(99), "mobilePhone": "+1 555 0100"}
    applied = delta.apply_to_table(previous, items, COLUMNS, users_frame)
    full = users_frame(list(after.values()))
    got, want = written(applied, tmp_path / "applied.parquet"), written(full, tmp_path / "full.parquet")
    assert got.schema.remove_metadata().equals(want.schema.remove_metadata()), (got.schema, want.schema)
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(got.to_pylist(), key=key) == sorted(want.to_pylist(), key=key)


def test_a_round_naming_nothing_keeps_the_table():
    previous = users_frame([user(i) for i in range(5)])
    applied = delta.apply_to_table(previous, [], COLUMNS, users_frame)
    assert applied.equals(previous.reset_index(drop=True))
