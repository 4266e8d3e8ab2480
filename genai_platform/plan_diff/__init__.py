"""What a change does before it is merged: the plan of a stack compared with the plan of a base.

``diff(base_document, head_document, label)`` compares two ``genai-infra plan --format json`` documents;
``base.load(spec, stack, root)`` reads the base from a file or plans a git ref with that ref's own code
(``base.loading`` does it while the caller plans the head);
``render`` prints the result as rich text or Markdown. The replace-forcing properties and the data-holding
types are the tables in :mod:`genai_platform.plan_diff.replacements`.
"""

from genai_platform.plan_diff.model import DataLoss, PlanDiff, Replacement, diff
from genai_platform.plan_diff.replacements import DATA_HOLDING, REPLACED_BY

__all__ = ["DATA_HOLDING", "REPLACED_BY", "DataLoss", "PlanDiff", "Replacement", "diff"]
