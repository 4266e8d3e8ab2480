"""EKS: the cluster, its system nodes, add-ons and pod identities (IRSA)."""
