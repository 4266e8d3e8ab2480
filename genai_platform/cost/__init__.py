"""What an environment costs: a monthly estimate of the offline plan, held against the budget.

``estimate(plan, budget_usd)`` prices every recorded resource from ``prices.json`` (shipped with the
package: us-east-1 / Cloud Run Tier 1 on-demand list prices, the date they were read and the source
of each); ``format_text`` / ``rich_report`` render it for the plan report.
"""

from genai_platform.cost.model import CostEstimate, NotPriced, estimate, priced_types
from genai_platform.cost.prices import load_prices
from genai_platform.cost.render import format_text, rich_report, verdict

__all__ = ["CostEstimate", "NotPriced", "estimate", "format_text", "load_prices", "priced_types", "rich_report",
           "verdict"]
