"""Models derived from snapshot tables, shared by the checks and the access review.

- `scope`   who Entra's provisioning service sends to Identity Center (assigned users, direct members of assigned
            groups, or everyone when the job syncs all), who reaches the app only through a nested group, and which
            Identity Center user / group is which Entra one (`Bridge`, built once per snapshot);
- `mapping` the job's attribute mappings read as "which Entra attribute feeds which SCIM attribute", so a check
            can predict what SCIM would send without a provisioning cycle.

Plain functions over DataFrames, vectorised: they run on 100k-user tenants.
"""

from idbridge.model.scope import Bridge, Scope, bridge, build_scope, match_groups, match_users

__all__ = ["Bridge", "Scope", "bridge", "build_scope", "match_groups", "match_users"]
