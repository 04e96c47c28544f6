"""The embedded broker's record (<home>/tansu.json): a reused pid is never taken for the broker."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psutil

from infomart import embedded


def test_recorded_broker_needs_the_same_pid_and_start_time() -> None:
    me = psutil.Process()
    assert embedded._is_recorded_broker({"pid": me.pid, "started": me.create_time()})
    assert embedded._is_recorded_broker({"pid": me.pid})  # a record written before start times were kept
    assert not embedded._is_recorded_broker({"pid": me.pid, "started": me.create_time() - 3600})
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert not embedded._is_recorded_broker({"pid": gone.pid, "started": 0.0})


def test_stop_does_not_signal_a_process_that_reused_the_pid(tmp_path: Path) -> None:
    # The record names this test's own process, started an hour "earlier": a reused pid.
    state = tmp_path / "tansu.json"
    state.write_text(
        json.dumps({"pid": os.getpid(), "port": 1, "started": psutil.Process().create_time() - 3600})
    )
    assert embedded.stop_embedded_kafka(tmp_path) is False
    assert not state.exists()  # the stale record is gone; this process is still here to assert it
