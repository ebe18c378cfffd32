"""Clients for both clouds, used by the collectors and the runbooks alike: building, paging, batching,
pacing.

    factory.py  Clients built from engagement parameters: the same code path for a real tenant and for the sandbox
    pacing.py   A thread-safe token bucket that makes callers wait their turn instead of being throttled by the server
    aws/        AWS through boto3: paging, fan-out, CloudTrail lookups, pacing, the organisation walk
    graph/      Microsoft Graph: the request adapter, raw JSON calls, paging, $batch and pacing
    recording/  Recordings of what the clouds answered a collection: kept for replay, contract fixtures and test…
"""
