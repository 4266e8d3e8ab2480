"""Capacity on EKS: Karpenter and its node pools, the managed GPU node group, KEDA autoscaling."""
