"""A deterministic contact-center simulator with a ground-truth ledger.

    from simulator import SimulationConfig, simulate, write_ndjson
    result = simulate(SimulationConfig(seed=7, agents=20, duration_hours=8))
    write_ndjson(result, "out/")

``result.deliveries`` are the events in delivery order (topic, Kafka key, JSON bytes) following
the input contract (shared/design/EVENTS.md) on every topic but ``gca-cfg``; ``result.ledger``
is what the marts must contain (shared/design/MEASURES.md), computed from the simulation's own
state; ``result.config_changes`` are the configuration objects and their changes with their
simulated times, for the Configuration Database (the config adapter publishes ``gca-cfg``).
Module layout:

  config      SimulationConfig, run tag          loop        heapq event loop
  timefmt     ms <-> ts text                     ids         run-tagged entity ids
  emitter     envelope, seq, ids, HA copies      delivery    shuffle / late delivery
  model       state dataclasses                  agents      shifts, breaks, agent states
  routing     virtual queues, agent pool         voice       the call model
  digital     chats and emails                   outbound    campaigns
  cfgevents   configuration changes              ledger      the ground truth
  simulation  simulate(), SimulationResult       writer      write_ndjson()
  intervals   the ledger per 15-minute interval (the aggregates' ground truth)
"""

from .cfgevents import ConfigChange
from .config import SimulationConfig, run_tag
from .emitter import TOPICS, Delivery
from .ledger import LEDGER_FILES, Ledger
from .simulation import SimulationResult, simulate
from .timefmt import parse_ts, ts_str
from .writer import write_ndjson

__all__ = [
    "LEDGER_FILES",
    "TOPICS",
    "ConfigChange",
    "Delivery",
    "Ledger",
    "SimulationConfig",
    "SimulationResult",
    "parse_ts",
    "run_tag",
    "simulate",
    "ts_str",
    "write_ndjson",
]
