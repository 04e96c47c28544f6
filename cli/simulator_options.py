"""The options of ``infomart simulate``: one per field of the simulator's ``SimulationConfig``.

The options are read from the dataclass itself, so a field added to ``SimulationConfig`` is an
option of ``infomart simulate`` without touching the CLI (``--field-name``; booleans as
``--field-name/--no-field-name``; tuples as comma-separated values, pairs as ``name:value``).
An option not given leaves the simulator's default (``SimulationConfig`` is the one place of the
defaults). ``tenant`` is not an option: it is the Info Mart's ``INFOMART_TENANT``, so the events
and the configuration written into the Configuration Database agree.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from simulator.config import DELIVERY_FIELDS, REPORTING_FIELDS, SimulationConfig

#: fields set from the Info Mart's settings, not from options
FROM_SETTINGS: frozenset[str] = frozenset({"tenant"})
#: short names kept from the first version of the command
ALIASES: dict[str, tuple[str, ...]] = {
    "duration_hours": ("--hours",),
    "redundant_sources": ("--redundant",),
}
HELP: dict[str, str] = {
    "seed": "Random seed: same seed, same events.",
    "start": "Simulated start, UTC.",
    "duration_hours": "Simulated hours.",
    "agents": "Agents.",
    "calls_per_hour": "Inbound call arrival rate (default: 10 per staffed agent-hour).",
    "redundant_sources": "A second, redundant source repeats voice events.",
    "shuffle": "Shuffle the delivery order: within a window (--shuffle-window events) or the whole stream.",
    "late_share": "Share of events delivered hours late.",
    "config_changes": "Configuration changes during the run (new agent, group move, ...).",
    "anomalies": "Anomalous events to inject (the ledger ignores them).",
    "queue_thresholds": "Per-queue thresholds in the configuration (first voice queue 30 s / 5 s,"
    " 15 s / 8 s from 75 % of the run; first chat queue 60 s); the ledger applies them.",
}
#: how a field name's unit suffix reads in its help
UNITS: dict[str, str] = {"_share": "_share (0 to 1)", "_ms": ",_milliseconds", "_s": ",_seconds"}
PANEL_SIMULATION = "Simulation (SimulationConfig)"
PANEL_DELIVERY = "Delivery (changes how events arrive, never the simulation)"
PANEL_REPORTING = "Reporting (the ledger's intervals and thresholds)"


@dataclasses.dataclass(frozen=True)
class SimulatorOption:
    """One field of SimulationConfig as a command-line option."""

    name: str
    kind: Any  # the field's type
    default: Any

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parameter(self) -> inspect.Parameter:
        return inspect.Parameter(
            self.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=Annotated[self._cli_type(), self._option()],
        )

    def _panel(self) -> str:
        if self.name in DELIVERY_FIELDS:
            return PANEL_DELIVERY
        if self.name in REPORTING_FIELDS:
            return PANEL_REPORTING
        return PANEL_SIMULATION

    def _help(self) -> str:
        if self.name in HELP:
            text = HELP[self.name]
        else:
            words = self.name
            for suffix, unit in UNITS.items():
                if words.endswith(suffix):
                    words = words.removesuffix(suffix) + unit
                    break
            text = words.replace("_", " ").capitalize() + "."
        if typing.get_origin(_base(self.kind)) is tuple:
            pairs = typing.get_origin(typing.get_args(_base(self.kind))[0]) is tuple
            text += " Comma-separated name:value pairs." if pairs else " Comma-separated."
        if "default" not in text:
            text += f" (default {_show(self.default)})"
        return text

    def _cli_type(self) -> Any:
        if self.kind is bool:
            return bool | None
        if self.kind in (int, float, str, datetime):
            return self.kind | None
        if _base(self.kind) in (int, float):
            return _base(self.kind) | None
        if self.name == "shuffle":
            return Literal["none", "window", "full"] | None
        return str | None  # tuples: parsed by value()

    def _option(self) -> Any:
        names = (*ALIASES.get(self.name, ()), self.flag)
        common: dict[str, Any] = {
            "help": self._help(),
            "rich_help_panel": self._panel(),
            "show_default": False,
        }
        if self.kind is bool:
            flags = [f"{n}/--no-{n[2:]}" for n in names]
            return typer.Option(*flags, **common)
        if self.kind is datetime:
            return typer.Option(*names, formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"], **common)
        return typer.Option(*names, **common)

    def value(self, given: Any) -> Any:
        """The field's value from the option's."""
        if self.kind is datetime:
            return given.replace(tzinfo=UTC) if given.tzinfo is None else given
        if not isinstance(given, str) or self.kind is str or self.name == "shuffle":
            return given
        items = [item.strip() for item in given.split(",") if item.strip()]
        element = typing.get_args(_base(self.kind))[0]
        if typing.get_origin(element) is tuple:  # pairs: name:value
            first, second = typing.get_args(element)
            pairs = [item.split(":", 1) for item in items]
            if any(len(p) != 2 for p in pairs):
                raise typer.BadParameter(f"{self.flag}: give name:value pairs separated by commas")
            return tuple((first(a), _convert(second, b, self.flag)) for a, b in pairs)
        return tuple(_convert(element, item, self.flag) for item in items)


def _base(kind: Any) -> Any:
    """``X`` of ``X | None``; any other type as it is."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return kind


def _convert(kind: Any, text: str, flag: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise typer.BadParameter(f"{flag}: {text!r} is not a {kind.__name__}") from None


def _show(value: Any) -> str:
    if value is None:
        return "derived from the agents"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return ",".join(":".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in value)
    return str(value)


def simulator_options() -> list[SimulatorOption]:
    """Every field of SimulationConfig a user may set, in the dataclass's order."""
    hints = typing.get_type_hints(SimulationConfig)
    return [
        SimulatorOption(f.name, hints[f.name], f.default)
        for f in dataclasses.fields(SimulationConfig)
        if f.name not in FROM_SETTINGS
    ]


def with_simulator_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one option per SimulationConfig field to a typer command.

    The command takes a parameter ``simulation: dict[str, Any]``: the fields given on the command
    line with their values (the rest keep the simulator's defaults).
    """
    options = simulator_options()
    own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "simulation"]
    clash = {p.name for p in own} & {o.name for o in options}
    if clash:
        raise TypeError(f"options of {command.__name__} clash with SimulationConfig fields: {sorted(clash)}")

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        simulation = {}
        for option in options:
            given = kwargs.pop(option.name)
            if given is not None:
                simulation[option.name] = option.value(given)
        return command(simulation=simulation, **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *(o.parameter() for o in options)])  # type: ignore[attr-defined]
    return wrapper
