"""KubeCronJob: schedule, run policy and the pod of a scheduled batch job."""

import re

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from genai_platform.components.k8s.kube_cronjob import KubeCronJob, KubeCronJobArgs, check_schedule
from genai_platform.mockcloud import run_under_mocks

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/tabular-scoring:2024.06.1"
CRONJOB = "kubernetes:batch/v1:CronJob"


def plan_cronjob(**kwargs):
    args = KubeCronJobArgs(**{"image": IMAGE, "namespace": "tabular", "schedule": "0 2 * * *", **kwargs})

    def program():
        job = KubeCronJob("nightly-scoring", args)
        pulumi.export("cron_job_name", job.cron_job_name)
        pulumi.export("namespace", job.namespace)

    return run_under_mocks(program)


def test_children_are_the_cronjob_its_account_and_a_deny_inbound_policy():
    plan = plan_cronjob()
    assert plan.type_counts() == {
        "genai:k8s:KubeCronJob": 1,
        CRONJOB: 1,
        "kubernetes:core/v1:ServiceAccount": 1,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,
    }
    policy = plan.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    assert policy == {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nightly-scoring"}},
                      "policyTypes": ["Ingress"]}  # no rules: nothing may connect to a batch pod
    assert plan.outputs == {"cron_job_name": "nightly-scoring", "namespace": "tabular"}


def test_run_policy_defaults():
    cronjob = plan_cronjob().one(CRONJOB).inputs
    assert cronjob["metadata"]["name"] == "nightly-scoring"
    spec = cronjob["spec"]
    job = spec.pop("jobTemplate")
    assert spec == {
        "schedule": "0 2 * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid", "suspend": False,
        "startingDeadlineSeconds": 300, "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
    }
    template = job["spec"].pop("template")
    assert job["spec"] == {"backoffLimit": 2, "activeDeadlineSeconds": 3600, "ttlSecondsAfterFinished": 259200}
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "batch"
    pod = template["spec"]
    assert pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    # A batch run is judged by its exit code; hung runs end at activeDeadlineSeconds.
    assert not {"ports", "livenessProbe", "readinessProbe", "startupProbe"} & set(container)


def test_run_policy_arguments():
    spec = plan_cronjob(schedule="30 1 * * MON-FRI", time_zone="Europe/Berlin", concurrency_policy="Replace",
                        suspend=True, backoff_limit=0, active_deadline_seconds=7200, starting_deadline_seconds=60,
                        successful_jobs_history_limit=1, failed_jobs_history_limit=5,
                        ttl_seconds_after_finished=3600).one(CRONJOB).inputs["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"], spec["suspend"]) == (
        "30 1 * * MON-FRI", "Europe/Berlin", "Replace", True)
    assert (spec["startingDeadlineSeconds"], spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (
        60, 1, 5)
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"], job["ttlSecondsAfterFinished"]) == (0, 7200, 3600)


@pytest.mark.parametrize("schedule", [
    "0 2 * * *", "*/15 * * * *", "0 0 1 1 *", "0 6 * * MON-FRI", "0 6 ? * sun", "5,35 8-18/2 * JAN-MAR,DEC 0-6",
    "59 23 31 12 6", "0 */4 * * 1/2", "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight",
])
def test_valid_schedules_are_accepted(schedule):
    check_schedule(schedule)


FIELD_RULE = "'*', lists (','), ranges ('-') and steps ('/')."


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"schedule": "0 2 * *"}, "schedule='0 2 * *' has 4 fields: use 5 (minute hour day-of-month month day-of-week), "
                              "e.g. '0 2 * * *', or a macro like '@daily'."),
    ({"schedule": "0 0 2 * * *"}, "schedule='0 0 2 * * *' has 6 fields: use 5 (minute hour day-of-month month "
                                  "day-of-week), e.g. '0 2 * * *', or a macro like '@daily'."),
    ({"schedule": "@every 1h"}, "schedule='@every 1h' has 2 fields: use 5 (minute hour day-of-month month "
                                "day-of-week), e.g. '0 2 * * *', or a macro like '@daily'."),
    ({"schedule": "CRON_TZ=UTC 0 2 * * *"}, "schedule='CRON_TZ=UTC 0 2 * * *' sets a time zone inside the schedule, "
                                            "which Kubernetes rejects: move it to time_zone."),
    ({"schedule": "TZ=Europe/Berlin 0 2 * * *"}, "schedule='TZ=Europe/Berlin 0 2 * * *' sets a time zone inside the "
                                                 "schedule, which Kubernetes rejects: move it to time_zone."),
    ({"schedule": "60 2 * * *"}, f"schedule='60 2 * * *' has an invalid minute field '60': use 0-59, {FIELD_RULE}"),
    ({"schedule": "0 24 * * *"}, f"schedule='0 24 * * *' has an invalid hour field '24': use 0-23, {FIELD_RULE}"),
    ({"schedule": "0 2 0 * *"},
     f"schedule='0 2 0 * *' has an invalid day-of-month field '0': use 1-31, {FIELD_RULE}"),
    ({"schedule": "0 2 * 13 *"},
     f"schedule='0 2 * 13 *' has an invalid month field '13': use 1-12 or JAN-DEC, {FIELD_RULE}"),
    ({"schedule": "0 2 * * 7"},
     f"schedule='0 2 * * 7' has an invalid day-of-week field '7': use 0-6 or SUN-SAT, {FIELD_RULE}"),
    ({"schedule": "0 2 * * FRI-MON"},
     f"schedule='0 2 * * FRI-MON' has an invalid day-of-week field 'FRI-MON': use 0-6 or SUN-SAT, {FIELD_RULE}"),
    ({"schedule": "*/0 * * * *"}, f"schedule='*/0 * * * *' has an invalid minute field '*/0': use 0-59, {FIELD_RULE}"),
    ({"schedule": "0 2 L * *"}, f"schedule='0 2 L * *' has an invalid day-of-month field 'L': use 1-31, {FIELD_RULE}"),
    ({"schedule": "0 1-2-3 * * *"},
     f"schedule='0 1-2-3 * * *' has an invalid hour field '1-2-3': use 0-23, {FIELD_RULE}"),
    ({"time_zone": "Mars/Olympus"},
     "time_zone='Mars/Olympus' is not an IANA time zone: use a name like 'Etc/UTC' or 'Europe/Berlin'."),
    ({"time_zone": "Local"}, "time_zone='Local' is not an IANA time zone: use a name like 'Etc/UTC' or "
                             "'Europe/Berlin'."),
    ({"concurrency_policy": "Skip"}, "concurrency_policy='Skip' is not a CronJob concurrency policy: "
                                     "use 'Forbid', 'Replace' or 'Allow'."),
    ({"backoff_limit": 11}, "backoff_limit=11 is out of range: use 0 to 10 retries."),
    ({"backoff_limit": -1}, "backoff_limit=-1 is out of range: use 0 to 10 retries."),
    ({"active_deadline_seconds": 0}, "active_deadline_seconds=0 is out of range: use 1 or more seconds."),
    ({"starting_deadline_seconds": 5}, "starting_deadline_seconds=5 is out of range: use 10 or more seconds "
                                       "(the controller checks schedules every 10 seconds)."),
    ({"successful_jobs_history_limit": -1}, "successful_jobs_history_limit=-1 is out of range: use 0 or more Jobs."),
    ({"failed_jobs_history_limit": -2}, "failed_jobs_history_limit=-2 is out of range: use 0 or more Jobs."),
    ({"ttl_seconds_after_finished": -1}, "ttl_seconds_after_finished=-1 is out of range: use 0 or more seconds."),
])
def test_cronjob_arguments_are_validated_with_exact_messages(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plan_cronjob(**kwargs)


_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def _field(low: int, high: int):
    value = st.integers(low, high)
    span = st.tuples(value, value).map(sorted).map(lambda pair: f"{pair[0]}-{pair[1]}")
    item = st.one_of(st.just("*"), value.map(str), span)
    stepped = st.tuples(item, st.one_of(st.none(), st.integers(1, 30))).map(
        lambda pair: pair[0] if pair[1] is None else f"{pair[0]}/{pair[1]}")
    return st.lists(stepped, min_size=1, max_size=3).map(",".join)


@given(st.tuples(*(_field(low, high) for low, high in _BOUNDS)))
def test_every_in_range_expression_is_accepted(fields):
    check_schedule(" ".join(fields))


@given(st.integers(0, 4), st.integers(1, 40))
def test_a_value_past_a_field_bound_is_rejected(position, excess):
    fields = ["*"] * 5
    fields[position] = str(_BOUNDS[position][1] + excess)
    with pytest.raises(ValueError, match="has an invalid"):
        check_schedule(" ".join(fields))
