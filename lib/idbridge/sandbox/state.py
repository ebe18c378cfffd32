"""SandboxWorld: the state of a running sandbox, both emulated clouds and the lock they share (world.py builds it).

Its own module so that the code acting on a world can name its type without importing the seeders that build it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from idbridge.sandbox.faults import FaultConfig
from idbridge.sandbox.scenario import Scenario

if TYPE_CHECKING:
    from idbridge.sandbox.aws.side import AwsSide
    from idbridge.sandbox.graph.store import GraphStore


@dataclass
class SandboxWorld:
    scenario: Scenario
    now: datetime
    faults: FaultConfig
    graph: "GraphStore"
    aws: "AwsSide"
    # One lock for both services: a provisioning cycle reads Entra and writes AWS while either may be serving.
    lock: threading.RLock = field(default_factory=threading.RLock)
