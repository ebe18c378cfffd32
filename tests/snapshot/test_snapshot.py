import pandas as pd
import pytest

from idbridge.errors import InputError
from idbridge.snapshot.store import NotCollected, Snapshot, SnapshotWriter


def test_round_trip_and_not_collected(tmp_path):
    writer = SnapshotWriter(tmp_path / "snap")
    writer.write_table("entra.users", "entra_users", pd.DataFrame({"id": ["a", "b"]}))
    writer.mark("entra.users", "complete", seconds=0.1)
    writer.write_table("entra.sign_ins", "entra_sign_ins", pd.DataFrame({"id": ["half"]}))
    writer.mark("entra.sign_ins", "not_collected", error="403 Authorization_RequestDenied",
                tables=["entra_sign_ins"])
    assert not (tmp_path / "snap").exists(), "nothing appears before finish()"
    writer.finish({"engagement": "t"})

    snap = Snapshot(tmp_path / "snap")
    assert list(snap.table("entra_users")["id"]) == ["a", "b"]
    assert snap.has("entra_users") and not snap.has("entra_sign_ins")
    with pytest.raises(NotCollected, match="entra.sign_ins: not collected: 403 Authorization_RequestDenied"):
        snap.table("entra_sign_ins")
    assert not (tmp_path / "snap" / "entra_sign_ins.parquet").exists()
    assert snap.status("entra.sign_ins") == ("not_collected", "403 Authorization_RequestDenied")


def test_abandoned_and_existing_snapshots(tmp_path):
    writer = SnapshotWriter(tmp_path / "snap")
    writer.abandon()
    assert not any(tmp_path.iterdir())
    (tmp_path / "done").mkdir()
    with pytest.raises(FileExistsError):
        SnapshotWriter(tmp_path / "done")
    with pytest.raises(InputError, match="manifest.json is missing"):
        Snapshot(tmp_path / "done")
