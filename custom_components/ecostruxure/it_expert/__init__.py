"""The IT Expert side of the integration: organizations polled for changes, measurements pushed.

The platform modules at the integration's top level hand IT Expert entries to the modules here.
"""
