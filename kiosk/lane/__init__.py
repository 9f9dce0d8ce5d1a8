"""The traveller transaction: an explicit state machine and the lane that drives it."""
