"""Network: the VPC, its subnet plan (CIDR) and NAT."""
