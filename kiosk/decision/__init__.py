"""What the lane decides with: the entry policy over the pure policy engine
(policy_adapter.py) and the onward journey (journey/: boarding passes, entry records)."""
