"""eks-version-supported / eks-version-support-ending: the EKS support calendar, judged on an injected date."""

import pytest

from genai_platform.policies.rules.lifecycle import EKS_SUPPORT_CALENDAR
from tests.policies.test_rules import RULES, check_resource

AWS_CLUSTER = "aws:eks/cluster:Cluster"
COMPONENT = "eks:index:Cluster"


def supported(props, as_of, environment="prod", type_token=AWS_CLUSTER):
    return check_resource("eks-version-supported", type_token, "core", props, environment, {"asOf": as_of})


def ending(props, as_of, warning_days=90):
    return check_resource("eks-version-support-ending", AWS_CLUSTER, "core", props, "prod",
                          {"asOf": as_of, "warningDays": warning_days})


def fix(rule):
    return f" Fix: {RULES[rule].remediation}"


STANDARD_133 = {"version": "1.33", "upgradePolicy": {"supportType": "STANDARD"}}


def test_the_last_day_of_standard_support_passes_and_the_next_fails():
    assert supported(STANDARD_133, "2026-07-29") == []
    assert supported(STANDARD_133, "2026-07-30") == [
        "Kubernetes 1.33 left EKS standard support on 2026-07-29: EKS upgrades the control plane itself, and the "
        "next update of this pinned version asks for a downgrade." + fix("eks-version-supported")]


@pytest.mark.parametrize("type_token", [AWS_CLUSTER, COMPONENT])
def test_both_cluster_shapes_are_judged(type_token):
    assert supported({"version": "1.33"}, "2026-12-01", type_token=type_token)


def test_extended_support_is_named_with_its_price_then_its_end():
    extended = {"version": "1.33", "upgradePolicy": {"supportType": "EXTENDED"}}
    assert supported(extended, "2026-12-01") == [
        "Kubernetes 1.33 left EKS standard support on 2026-07-29: the cluster bills extended support ($0.60 "
        "instead of $0.10 an hour) until 2027-07-29." + fix("eks-version-supported")]
    assert supported(extended, "2027-07-30") == [
        "Kubernetes 1.33 left EKS extended support on 2027-07-29." + fix("eks-version-supported")]


def test_past_support_is_mandatory_in_prod_and_a_warning_elsewhere():
    rule = RULES["eks-version-supported"]
    assert [rule.enforcement_for(env) for env in ("dev", "staging", "prod")] == ["advisory", "advisory", "mandatory"]
    assert {r.enforcement_for(env) for r in [RULES["eks-version-support-ending"]]
            for env in ("dev", "staging", "prod")} == {"advisory"}


def test_a_minor_older_than_the_calendar_fails_and_an_unknown_newer_one_warns():
    assert supported({"version": "1.27"}, "2026-12-01") == [
        "Kubernetes 1.27 is older than every minor EKS still supports." + fix("eks-version-supported")]
    assert ending({"version": "1.27"}, "2026-12-01") == []
    assert supported({"version": "1.40"}, "2026-12-01") == []
    assert ending({"version": "1.40"}, "2026-12-01") == [
        "Kubernetes 1.40 is not in the EKS support calendar, so its end of support is unknown."
        + fix("eks-version-support-ending")]


def test_the_warning_starts_warning_days_before_the_end():
    assert ending({"version": "1.36"}, "2027-05-03") == []  # 91 days left
    assert ending({"version": "1.36"}, "2027-05-04") == [
        "Kubernetes 1.36 leaves EKS standard support in 90 days, on 2027-08-02." + fix("eks-version-support-ending")]
    assert ending({"version": "1.36"}, "2027-05-04", warning_days=30) == []
    assert ending({"version": "1.36"}, "2027-08-03") == []  # past: eks-version-supported's finding


def test_a_component_registered_without_inputs_is_skipped():
    assert supported({}, "2030-01-01", type_token=COMPONENT) == []


def test_the_default_version_is_supported_until_mid_2027():
    from genai_platform.components.aws.eks.cluster import DEFAULT_KUBERNETES_VERSION
    assert EKS_SUPPORT_CALENDAR[DEFAULT_KUBERNETES_VERSION].standard_end.isoformat() >= "2027-07-01"
    assert supported({"version": DEFAULT_KUBERNETES_VERSION, "upgradePolicy": {"supportType": "STANDARD"}},
                     "2027-08-02") == []
