"""The Facility Expert side of the integration: sites polled for latest values and alarms.

The modules at the integration's top level hand Facility Expert entries to the modules here
through registry.py.
"""
