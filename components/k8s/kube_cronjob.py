"""KubeCronJob: a scheduled batch job on Kubernetes that never overlaps, never runs away and cleans up after itself."""

import functools
import zoneinfo
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_kubernetes.batch.v1 import CronJob
from pulumi_kubernetes.networking.v1 import NetworkPolicy

from genai_platform.components.k8s.pod import KubeWorkload, WorkloadArgs, validate_workload
from genai_platform.components.validation import check_range

ConcurrencyPolicy = Literal["Forbid", "Replace", "Allow"]

MAX_CRONJOB_NAME_LENGTH = 52
"""The Job controller appends an 11-character suffix to Job names, which are capped at 63."""

CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
"""Schedule shorthands the CronJob controller accepts besides 5-field expressions."""

_MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
# (field name, lowest, highest, names) in schedule order; the controller's parser (robfig/cron) has
# day-of-week 0-6 with Sunday 0, no 7.
_CRON_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day-of-month", 1, 31, {}),
                ("month", 1, 12, _MONTHS), ("day-of-week", 0, 6, _DAYS))


@dataclass(kw_only=True)
class KubeCronJobArgs(WorkloadArgs):
    """Arguments of :class:`KubeCronJob`; the pod arguments are those of :class:`WorkloadArgs`."""

    schedule: str
    """When to run: a 5-field cron expression (minute hour day-of-month month day-of-week), e.g.
    ``"0 2 * * *"``, or a macro such as ``"@daily"``; evaluated in ``time_zone``."""

    time_zone: str = "Etc/UTC"
    """IANA time zone of the schedule. Default UTC: no run skipped or doubled at daylight-saving changes."""

    concurrency_policy: ConcurrencyPolicy = "Forbid"
    """What to do when a run is due while the previous one still runs. Default ``Forbid``: skip it, so
    two runs never write the same rows or double the compute bill."""

    suspend: bool = False
    """Stop scheduling new runs (running ones finish), e.g. while a downstream system is migrated."""

    backoff_limit: int = 2
    """Retries of a failed run (0-10), each in a fresh pod whose logs stay inspectable."""

    active_deadline_seconds: int = 3600
    """Wall-clock cap of a run including retries; a hung job is killed instead of billing all night."""

    starting_deadline_seconds: int = 300
    """How late a missed run may still start (10 or more). Beyond it the run is skipped, and the
    controller never stops scheduling after 100 missed runs (e.g. after the job was suspended)."""

    successful_jobs_history_limit: int = 3
    """Finished successful Jobs kept for inspection."""

    failed_jobs_history_limit: int = 3
    """Failed Jobs kept for inspection (their pods hold the logs)."""

    ttl_seconds_after_finished: int = 259200
    """Seconds after which a finished Job and its pods are deleted. Default 3 days: a Friday night
    failure is still there to debug on Monday; older pods only hold node resources and IPs."""


class KubeCronJob(KubeWorkload):
    """A ``batch/v1`` CronJob running the secure pod of :mod:`genai_platform.components.k8s.pod`, with its own
    ServiceAccount (IRSA) and a NetworkPolicy that admits no inbound traffic (a batch pod serves nothing).

    The pods have no probes: a batch run is judged by its exit code, and a hung run is stopped by
    ``active_deadline_seconds``. Pods use ``restartPolicy: Never`` so each retry is a fresh pod.
    """

    cron_job_name: str
    """Name of the CronJob (the component name)."""

    def __init__(self, name: str, args: KubeCronJobArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:k8s:KubeCronJob", name, args, "batch", opts)

        CronJob(
            f"{name}-cronjob",
            metadata=self._metadata(),
            spec={
                "schedule": args.schedule,
                "time_zone": args.time_zone,
                "concurrency_policy": args.concurrency_policy,
                "suspend": args.suspend,
                "starting_deadline_seconds": args.starting_deadline_seconds,
                "successful_jobs_history_limit": args.successful_jobs_history_limit,
                "failed_jobs_history_limit": args.failed_jobs_history_limit,
                "job_template": {
                    "metadata": {"labels": self._labels},
                    "spec": {
                        "backoff_limit": args.backoff_limit,
                        "active_deadline_seconds": args.active_deadline_seconds,
                        "ttl_seconds_after_finished": args.ttl_seconds_after_finished,
                        "template": self._pod_template(restart_policy="Never"),
                    },
                },
            },
            opts=self._child(),
        )
        NetworkPolicy(
            f"{name}-netpol",
            metadata=self._metadata(),
            # Listing 'Ingress' with no rules denies all inbound traffic; egress stays open.
            spec={"pod_selector": {"match_labels": self.selector_labels()}, "policy_types": ["Ingress"]},
            opts=self._child(),
        )

        self.cron_job_name = name
        self.register_outputs({
            "namespace": self.namespace,
            "cron_job_name": self.cron_job_name,
            "service_account_name": self.service_account_name,
        })


def check_schedule(schedule: str) -> None:
    """Refuse a schedule the CronJob controller would reject or misread."""
    if schedule.startswith(("TZ=", "CRON_TZ=")):
        raise ValueError(
            f"schedule={schedule!r} sets a time zone inside the schedule, which Kubernetes rejects: "
            "move it to time_zone."
        )
    if schedule in CRON_MACROS:
        return
    fields = schedule.split()
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(
            f"schedule={schedule!r} has {len(fields)} fields: use 5 (minute hour day-of-month month "
            "day-of-week), e.g. '0 2 * * *', or a macro like '@daily'."
        )
    for text, (field_name, low, high, names) in zip(fields, _CRON_FIELDS):
        if not _valid_cron_field(text, low, high, names):
            spelled = f"{low}-{high}" + (f" or {min(names, key=names.get)}-{max(names, key=names.get)}"
                                         if names else "")
            raise ValueError(
                f"schedule={schedule!r} has an invalid {field_name} field {text!r}: use {spelled}, '*', "
                "lists (','), ranges ('-') and steps ('/')."
            )


def _valid_cron_field(text: str, low: int, high: int, names: dict[str, int]) -> bool:
    for item in text.split(","):
        span, has_step, step = item.partition("/")
        if has_step and not (step.isdigit() and int(step) > 0):
            return False
        if span in ("*", "?"):
            continue
        bounds = span.split("-")
        values = [names.get(bound.upper(), int(bound) if bound.isdigit() else None) for bound in bounds]
        if len(bounds) > 2 or None in values or not all(low <= value <= high for value in values):
            return False
        if values != sorted(values):
            return False
    return True


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(time_zone: str) -> None:
    """Refuse a time zone that is not an IANA name (Kubernetes also refuses ``Local``)."""
    zones = _time_zones()
    # Without a local tz database (a slim image without tzdata) only the shape can be checked.
    known = time_zone in zones if zones else "/" in time_zone or time_zone == "UTC"
    if time_zone == "Local" or not known:
        raise ValueError(
            f"time_zone={time_zone!r} is not an IANA time zone: use a name like 'Etc/UTC' or 'Europe/Berlin'."
        )


def _validate(name: str, args: KubeCronJobArgs) -> None:
    validate_workload(name, args, max_name_length=MAX_CRONJOB_NAME_LENGTH)
    check_schedule(args.schedule)
    check_time_zone(args.time_zone)
    if args.concurrency_policy not in ("Forbid", "Replace", "Allow"):
        raise ValueError(
            f"concurrency_policy={args.concurrency_policy!r} is not a CronJob concurrency policy: "
            "use 'Forbid', 'Replace' or 'Allow'."
        )
    check_range("backoff_limit", args.backoff_limit, 0, 10, " retries")
    check_range("active_deadline_seconds", args.active_deadline_seconds, 1, None, " seconds")
    check_range("starting_deadline_seconds", args.starting_deadline_seconds, 10, None,
                " seconds (the controller checks schedules every 10 seconds)")
    for arg in ("successful_jobs_history_limit", "failed_jobs_history_limit"):
        check_range(arg, getattr(args, arg), 0, None, " Jobs")
    check_range("ttl_seconds_after_finished", args.ttl_seconds_after_finished, 0, None, " seconds")
