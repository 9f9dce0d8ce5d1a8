"""Gate controllers: the barrier hardware behind devices.protocols.Gate."""
