"""Simulated devices: same interfaces and protocols as the hardware adapters."""
