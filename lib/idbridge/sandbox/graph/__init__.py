"""The Microsoft Graph emulator of the sandbox (Entra ID side), answered to the unmodified msgraph-sdk.

    store.py          GraphStore: Entra objects in Graph's JSON shapes (the state)
    seed.py           build_store(scenario, now): the scenario's tenant, users, groups, AWS app, policies, logs
    shapes.py         builders shared by seeding and writes (applications, service principals, credentials)
    sync_shapes.py    synchronization templates, jobs, status, schema with the default AWS mappings, secrets
    certs.py          deterministic RSA keys and self-signed token-signing certificates
    app.py            create_graph_app(world): the WSGI app (token endpoint, federation metadata, /v1.0, /beta)
    core.py           the Call / Result model and the path router
    routes_*.py       the Graph endpoints by area
    odata.py          $select, $top/$skiptoken paging, $count, $orderby;  odata_filter.py: the $filter parser
    resources.py      entity types: property names, page sizes, Graph's serving rules
    batch.py          POST /$batch
    auth.py           client-credentials tokens and bearer checks
    faults.py         latency, 429/503, expired page tokens, the reports limit, deny / unlicensed
    metadata.py       the signed SAML federation metadata document
    errors.py         Graph's error bodies
"""
