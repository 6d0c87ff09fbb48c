"""Measured cost and scale of the integration: `scripts/bench` (see README, Performance).

Every size runs in a process of its own (so memory figures start clean), with Home Assistant
as the tests run it and the simulator in yet another process (so its work is not counted as
the integration's), over real loopback HTTP.
"""
