"""ECS Fargate services behind an Application Load Balancer; the family's Args sit in ``args``."""
