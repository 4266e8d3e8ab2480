"""Lifecycle: the EKS cluster runs a Kubernetes minor that EKS still supports.

With the ``STANDARD`` support type EKS upgrades a cluster itself once its minor leaves standard support,
and the next ``pulumi up`` of the pinned version then asks for a downgrade EKS refuses. With ``EXTENDED``
the minor stays for 12 more months at $0.60 instead of $0.10 per cluster-hour. Two rules share one calendar:

* ``eks-version-supported``: past the end of standard support (mandatory in prod, a warning elsewhere);
* ``eks-version-support-ending``: within ``warningDays`` (90) of it, or a minor the calendar does not know
  (advisory everywhere): the time to upgrade is before the deadline, one minor at a time.

"Today" is the ``asOf`` setting when given (tests inject it), else the date the pack runs.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from pulumi_policy import ResourceValidationArgs

from genai_platform.policies.registry import ADVISORY, PROD_MANDATORY, RuleContext, Setting, resource_rule
from genai_platform.policies.values import get

AWS_CLUSTER = "aws:eks/cluster:Cluster"
COMPONENT_CLUSTER = "eks:index:Cluster"
CLUSTERS = (AWS_CLUSTER, COMPONENT_CLUSTER)


@dataclass(frozen=True)
class SupportWindow:
    """When a minor leaves EKS standard support, and when extended support ends too."""

    standard_end: date
    extended_end: date


EKS_SUPPORT_CALENDAR: dict[str, SupportWindow] = {
    "1.29": SupportWindow(date(2025, 3, 23), date(2026, 3, 23)),
    "1.30": SupportWindow(date(2025, 7, 23), date(2026, 7, 23)),
    "1.31": SupportWindow(date(2025, 11, 26), date(2026, 11, 26)),
    "1.32": SupportWindow(date(2026, 3, 23), date(2027, 3, 23)),
    "1.33": SupportWindow(date(2026, 7, 29), date(2027, 7, 29)),
    "1.34": SupportWindow(date(2026, 12, 2), date(2027, 12, 2)),
    "1.35": SupportWindow(date(2027, 3, 27), date(2028, 3, 27)),
    "1.36": SupportWindow(date(2027, 8, 2), date(2028, 8, 2)),
}
"""End of standard and extended support per minor: the Amazon EKS user guide's release calendar
("Understand the Kubernetes version lifecycle on EKS"), as endoflife.date/amazon-eks records it (read
2026-12-01). Add the next minor's row when EKS publishes it."""

_MINOR = re.compile(r"^(\d+)\.(\d+)")
_AS_OF = Setting({"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}, "",
                 description="Date to judge support on (YYYY-MM-DD); empty: the day the pack runs.")


def today() -> date:
    """The day the pack runs (a function, so tests can pin it)."""
    return date.today()


def _as_of(ctx: RuleContext) -> date:
    value = ctx.settings.get("asOf") or ""
    return date.fromisoformat(value) if value else today()


def _minor(args: ResourceValidationArgs) -> tuple[str, str] | None:
    """The cluster's minor (``"1.36"``) and support type; None when the version is not known yet."""
    version = args.props.get("version")
    match = _MINOR.match(version) if isinstance(version, str) else None
    if match is None:
        return None  # a real preview registers the pulumi-eks component without inputs
    support_type = get(args.props, "upgradePolicy.supportType") or "EXTENDED"  # the EKS default
    return f"{match[1]}.{match[2]}", str(support_type)


def _older_than_calendar(minor: str) -> bool:
    oldest = min(EKS_SUPPORT_CALENDAR, key=lambda known: tuple(map(int, known.split("."))))
    return tuple(map(int, minor.split("."))) < tuple(map(int, oldest.split(".")))


@resource_rule(
    name="eks-version-supported",
    types=CLUSTERS,
    description="The EKS cluster's Kubernetes minor is still in EKS standard support (calendar in "
                "policies/rules/lifecycle.py); past it EKS upgrades the cluster itself or bills extended support "
                "(platform rule; checkov and cdk-nag have no version check).",
    severity="high",
    levels=PROD_MANDATORY,
    remediation="Upgrade kubernetes_version one minor at a time to one in standard support and repin the "
                "add-ons for it (components/aws/eks/cluster.py, components/aws/eks/addons.py).",
    settings={"asOf": _AS_OF},
)
def version_supported(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    found = _minor(args)
    if found is None:
        return
    minor, support_type = found
    window = EKS_SUPPORT_CALENDAR.get(minor)
    if window is None:
        if _older_than_calendar(minor):
            yield f"Kubernetes {minor} is older than every minor EKS still supports."
        return
    as_of = _as_of(ctx)
    if as_of <= window.standard_end:
        return
    if support_type == "STANDARD":
        yield (f"Kubernetes {minor} left EKS standard support on {window.standard_end.isoformat()}: EKS upgrades "
               "the control plane itself, and the next update of this pinned version asks for a downgrade.")
    elif as_of <= window.extended_end:
        yield (f"Kubernetes {minor} left EKS standard support on {window.standard_end.isoformat()}: the cluster "
               f"bills extended support ($0.60 instead of $0.10 an hour) until {window.extended_end.isoformat()}.")
    else:
        yield f"Kubernetes {minor} left EKS extended support on {window.extended_end.isoformat()}."


@resource_rule(
    name="eks-version-support-ending",
    types=CLUSTERS,
    description="The EKS cluster's Kubernetes minor has more than warningDays (90) of standard support left, "
                "and is in the support calendar, so the upgrade is planned before EKS forces it (platform rule).",
    severity="medium",
    levels=ADVISORY,
    remediation="Plan the upgrade of kubernetes_version to the next minor now; add a new minor's dates to "
                "EKS_SUPPORT_CALENDAR in policies/rules/lifecycle.py.",
    settings={"asOf": _AS_OF, "warningDays": Setting({"type": "integer", "minimum": 1}, 90,
                                                     description="Warn this many days before standard support ends.")},
)
def version_support_ending(args: ResourceValidationArgs, ctx: RuleContext) -> Iterator[str]:
    found = _minor(args)
    if found is None:
        return
    minor, _ = found
    window = EKS_SUPPORT_CALENDAR.get(minor)
    if window is None:
        if not _older_than_calendar(minor):  # older ones are eks-version-supported's
            yield f"Kubernetes {minor} is not in the EKS support calendar, so its end of support is unknown."
        return
    days_left = (window.standard_end - _as_of(ctx)).days
    if 0 <= days_left <= int(ctx["warningDays"]):
        yield (f"Kubernetes {minor} leaves EKS standard support in {days_left} days, on "
               f"{window.standard_end.isoformat()}.")
