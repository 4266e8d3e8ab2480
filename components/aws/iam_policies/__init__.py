"""IAM policy documents published by upstream projects, shipped as package data.

| file | upstream source |
| --- | --- |
| ``aws_load_balancer_controller.json`` | kubernetes-sigs/aws-load-balancer-controller ``docs/install/iam_policy.json`` at v3.5.0 (identical to v2.17.1) |

Keep each file as upstream publishes it and refresh it together with the chart version
(``curl -sL https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/v<version>/docs/install/iam_policy.json``
and diff). Tightening happens in code (``genai_platform.components.aws.eks.addons``), so that diff stays readable.
"""
