"""The pricers: one function per resource type with a fixed hourly or monthly price, grouped by domain.

A pricer reads the engine inputs the plan recorded (camelCase), multiplies by ``prices.json`` and
returns the parts of the resource's monthly price, each with a basis a reader can check by hand. A
resource whose class or size is not in the table raises :class:`NotPriced` with the reason, so it is
reported as *unpriced*, never priced at zero; usage-priced parts (storage, requests, data transfer)
are given as a remark, not summed.

Importing this package imports every domain module, which registers its pricers in :data:`PRICERS`.
"""

from genai_platform.cost.pricers import compute, data, monitoring, network  # noqa: F401  (registers the pricers)
from genai_platform.cost.pricers import karpenter  # noqa: F401  (registers the pricers)
from genai_platform.cost.pricers import observability  # noqa: F401  (registers the pricers)
from genai_platform.cost.pricers.context import PricingContext
from genai_platform.cost.pricers.registry import PRICERS, NotPriced, Priced, Pricer

__all__ = ["PRICERS", "NotPriced", "Priced", "Pricer", "PricingContext"]
