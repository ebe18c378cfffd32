"""Microsoft Graph: the request adapter, raw JSON calls, paging, $batch and pacing.

    adapter.py  Microsoft Graph clients: the real msgraph-sdk request adapter, pointed at Graph or at the sandbox
    batch.py    Many Graph listings read through JSON batching (POST /$batch, at most 20 requests each)
    pacer.py    Pacing for Microsoft Graph's identity-and-access reports: at most 5 requests per 10 s per app per…
    paging.py   Reading whole Graph collections as raw JSON: every page, restarted from page 1 when a next link has…
    raw.py      Raw JSON reads through msgraph-sdk's request adapter
"""
