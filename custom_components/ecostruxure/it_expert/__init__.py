"""The IT Expert side of the integration: organizations polled for changes, measurements pushed.

The modules at the integration's top level hand IT Expert entries to the modules here through
registry.py.
"""
