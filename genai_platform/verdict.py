"""The one-line verdict of a planned stack, and the table of them that ends ``plan --all``.

A reader (or a CI log) sees the outcome last, without scrolling back through hundreds of lines::

    PASS dev: 0 mandatory, 18 advisory, $197/month of $550
    FAIL prod: 2 mandatory (rule-a, rule-b), 3 advisory, $2,275/month of $3,800
    FAIL dev: 0 mandatory, 18 advisory, $620/month OVER $550
    ERROR staging: not planned (exit 2): the error is on stderr
"""

from dataclasses import dataclass

from rich.table import Table

from genai_platform.cost import CostEstimate
from genai_platform.policy_check import PolicyReport

EXIT_CONFIG = 2
EXIT_POLICY = 3
EXIT_OVER_BUDGET = 4


@dataclass(frozen=True)
class Verdict:
    """How one stack came out of the plan."""

    stack: str
    exit_code: int
    """0 pass, 2 not planned, 3 a mandatory policy violated, 4 over budget (see ``genai-infra plan --help``)."""
    mandatory: tuple[str, ...] = ()
    """The violated mandatory rules, each once, in the order the report lists them."""
    advisory: int = 0
    """Advisory violations (not rules: one rule can be violated by many resources)."""
    monthly: float | None = None
    budget: float | None = None

    @property
    def status(self) -> str:
        return "PASS" if self.exit_code == 0 else "ERROR" if self.exit_code == EXIT_CONFIG else "FAIL"

    def line(self) -> str:
        if self.exit_code == EXIT_CONFIG:
            return f"ERROR {self.stack}: not planned (exit 2): the error is on stderr"
        rules = f" ({', '.join(self.mandatory)})" if self.mandatory else ""
        return f"{self.status} {self.stack}: {len(self.mandatory)} mandatory{rules}, {self.advisory} advisory, " \
               f"{self.cost()}"

    def cost(self) -> str:
        if self.monthly is None:
            return ""
        if self.budget is None:
            return f"{_dollars(self.monthly)}/month (no budget)"
        relation = "OVER" if self.exit_code == EXIT_OVER_BUDGET or self.monthly > self.budget else "of"
        return f"{_dollars(self.monthly)}/month {relation} {_dollars(self.budget)}"

    def to_json(self) -> dict:
        return {"status": self.status, "exit_code": self.exit_code, "mandatory": list(self.mandatory),
                "advisory": self.advisory, "monthly": self.monthly, "budget": self.budget, "line": self.line()}


def planned(stack: str, policies: PolicyReport, estimate: CostEstimate) -> Verdict:
    """The verdict of a stack that was planned: policies first, then money (the exit code's order)."""
    mandatory = tuple(dict.fromkeys(v["policy"] for v in policies.mandatory_violations))
    code = EXIT_POLICY if mandatory else EXIT_OVER_BUDGET if estimate.over_budget else 0
    return Verdict(stack, code, mandatory, len(policies.advisory_violations), estimate.monthly, estimate.budget)


def not_planned(stack: str) -> Verdict:
    return Verdict(stack, EXIT_CONFIG)


def worst_exit_code(verdicts: list[Verdict]) -> int:
    """2 beats 3 beats 4; 0 only when every stack passed."""
    failures = [v.exit_code for v in verdicts if v.exit_code]
    return min(failures) if failures else 0


def table(verdicts: list[Verdict]) -> Table:
    """The summary ``plan --all`` ends with: one row per stack, the worst exit code in the title (the rules
    are named on each stack's verdict line; here they would wrap the table on an 80-column CI log)."""
    summary = Table(title=f"Verdict: exit {worst_exit_code(verdicts)}", title_justify="left")
    for column, justify in (("stack", "left"), ("verdict", "left"), ("mandatory", "left"), ("advisory", "right"),
                            ("cost", "left"), ("exit", "right")):
        summary.add_column(column, justify=justify)
    for verdict in verdicts:
        was_planned = verdict.exit_code != EXIT_CONFIG
        summary.add_row(verdict.stack, verdict.status, str(len(verdict.mandatory)) if was_planned else "-",
                        str(verdict.advisory) if was_planned else "-", verdict.cost() or "not planned",
                        str(verdict.exit_code))
    return summary


def _dollars(amount: float) -> str:
    return f"${amount:,.0f}"
