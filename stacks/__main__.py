"""Pulumi program: config -> services -> exports. Run with `pulumi up -s <env>` or `genai-infra plan <env>`."""

import pulumi

from stacks import config
from stacks.services import network

settings = config.from_pulumi()
net = network.build(settings)

pulumi.export("vpcId", net.vpc_id)
pulumi.export("privateSubnetIds", net.private_subnet_ids)
