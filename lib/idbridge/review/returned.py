"""A folder of returned reviewer packs (review.returned_dir), checked before `idbridge run` hands it to
22_review_decisions, and the snapshot the packs were written from.

Returned packs belong to the snapshot of the run that wrote them, usually an earlier run of the engagement than
the one reading them: their decisions are read against that snapshot's access table (the keys, users, accounts
and permission sets as the reviewers saw them). So before anything reads a decision, the folder must exist and
hold review packs only (Excel's ~$ lock files and hidden files aside); each must open, be within the limits, be
of this idbridge's format, of this engagement, and verify with the engagement's signing key; all must come from
one snapshot; and that snapshot must be one of the engagement's runs. Every problem of every file is raised
together as one InputError naming the file (exit 2); 22 then checks every row (decisions.read_decisions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from idbridge.errors import InputError
from idbridge.review.decisions import pack_info
from idbridge.review.limits import ReadLimits
from idbridge.review.signing import SigningKey
from idbridge.review.workbook import snapshot_meta

PARAMETER = "review.returned_dir"


@dataclass(frozen=True)
class ReturnedRound:
    folder: Path
    files: tuple[Path, ...]
    snapshot_id: str
    collected_at: str


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "~$"))  # hidden files, Excel's lock files of open workbooks


def check_folder(folder, engagement: str, *, key: SigningKey | str | bytes | None = None,
                 allow_unsigned: bool = False, limits: ReadLimits | None = None) -> ReturnedRound:
    """The returned packs of `folder`, checked as the module docstring says (all but the snapshot lookup)."""
    folder = Path(folder)
    if not folder.exists():
        raise InputError(str(folder), f"{PARAMETER}: no such folder: put the returned workbooks there, or remove "
                                      f"{PARAMETER} from the parameters")
    if not folder.is_dir():
        raise InputError(str(folder), f"{PARAMETER}: not a folder: name the folder holding the returned workbooks")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not _skipped(p))
    if not files:
        raise InputError(str(folder), f"{PARAMETER}: the folder holds no returned workbooks (.xlsx)")
    problems: list[str] = []
    found: dict[str, list[tuple[Path, dict]]] = {}  # snapshot_id -> packs
    for path in files:
        info, trouble = pack_info(path, key=key, allow_unsigned=allow_unsigned, limits=limits)
        if trouble:
            problems += [f"{path.name}: {line}" for line in trouble]
            continue
        if info.get("engagement") != engagement:
            problems.append(f"{path.name}: a review pack of engagement {info.get('engagement')!r}, not "
                            f"{engagement!r}: it belongs in another engagement's folder")
            continue
        found.setdefault(info.get("snapshot_id", ""), []).append((path, info))
    if len(found) > 1:
        rounds = "; ".join(f"snapshot {sid} (collected {packs[0][1].get('collected_at') or '?'}): "
                           + ", ".join(p.name for p, _ in packs) for sid, packs in sorted(found.items()))
        problems.append(f"the workbooks come from {len(found)} review rounds (snapshots), one folder holds one: "
                        f"{rounds}")
    if problems:
        raise InputError(str(folder), problems)
    (snapshot_id, packs), = found.items()
    return ReturnedRound(folder, tuple(p for p, _ in packs), snapshot_id, packs[0][1].get("collected_at") or "")


def find_snapshot(returned: ReturnedRound, candidates) -> Path:
    """The snapshot folder (among `candidates`: the engagement's run snapshots) the packs were written from."""
    from idbridge.snapshot.store import Snapshot

    looked = []
    for path in map(Path, candidates):
        try:
            snapshot = Snapshot(path)
        except (InputError, OSError):  # an unreadable earlier run is not the one (history says so elsewhere)
            continue
        looked.append(path)
        if snapshot_meta(snapshot)["snapshot_id"] == returned.snapshot_id:
            return path
    first = returned.files[0].name
    raise InputError(str(returned.folder), f"{first} and the other packs were written from snapshot "
                                           f"{returned.snapshot_id} (collected {returned.collected_at or '?'}), which "
                                           f"is none of the engagement's {len(looked)} run(s) found: keep the run "
                                           "folder that wrote the packs under run_root, or run with its parameters")
