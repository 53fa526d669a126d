"""The one error a distributed evaluation raises for what an operator can fix."""


class ClusterError(ValueError):
    """A cluster that cannot run the evaluation as asked (address, store, sizing, a replica that keeps dying)."""
