"""The AWS side of the sandbox: moto's server, patched where moto 5.2.5 falls short, seeded from a scenario.

- seed.py            seed_aws(scenario, now) -> AwsSide; seed_account_assignments(world)
- side.py            AwsSide: what the seeding made, read by provisioning and the routes
- seed_org.py        Organizations: organisation, OU tree, accounts, delegated administrator
- seed_sso.py        Identity Center instance and Regions, permission sets, principals made by hand
- identity_store.py  IdentityStore: the facade the emulated SCIM provisioning writes through
- store_records.py   the identity store's records, indexes and AWS's rules (facade and API share them)
- sso_state.py       assignments, per-account provisioning status, request statuses
- trail.py           CloudTrail event store (record / lookup); trail_events.py: the scenario's events
- patches.py         apply_patches(): the patch_*.py modules, one gap per patch
- server.py          start_moto_server(world_or_faults) -> handle; middleware.py: faults, counts, accounts
- auth.py            the gate in front of moto: loopback Host, SigV4 with the sandbox's key, no /moto-api, no CORS
- testkit.py         boto3 clients for the sandbox, a small scenario, a stand-in provisioning cycle
- timing.py          seeding speed at 100k users / 5k groups / 1k accounts / 300 permission sets (run by hand)

Nothing is imported here, so importing the seeder does not load the web server.
"""
