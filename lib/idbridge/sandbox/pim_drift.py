"""PIM for Groups on the Identity Center side: an activation that ended after the last provisioning cycle had
copied it leaves the membership in Identity Center until the next cycle (or longer, if the cycles stop). The
scenario says so with `still_in_idc: true` on an ended `entra.pim_groups[].active` entry; this writes that
membership into the identity store as SCIM wrote it, while the activation was still in force."""

from __future__ import annotations

from datetime import timedelta

from idbridge.sandbox.aws.store_records import SCIM
from idbridge.sandbox.scenario import SeedError
from idbridge.sandbox.timeexpr import resolve_time


def seed_lingering_memberships(world) -> None:
    store = world.aws.identity_store
    for p_index, pim in enumerate(world.scenario.entra.pim_groups):
        for index, entry in enumerate(pim.active):
            if not entry.still_in_idc:
                continue
            path = ("entra", "pim_groups", p_index, "active", index, "still_in_idc")
            ended = entry.deactivated or entry.end  # deactivated early: the activation ended then
            end = resolve_time(ended, world.now) if ended else None
            if end is None or end > world.now:
                raise SeedError(path, "only an activation that has ended (an `end` in the past) can linger")
            user = store.find_user(user_name=entry.user)
            group = store.find_group(display_name=pim.group)
            if user is None or group is None:
                missing = "user" if user is None else "group"
                raise SeedError(path, f"the {missing} is not in Identity Center: put it in provisioning scope "
                                      "(assign it to the app, or make it a member of an assigned group)")
            start = resolve_time(entry.start, world.now)
            store.add_member(group, user, at=max(start, end - timedelta(minutes=10)), created_by=SCIM)
