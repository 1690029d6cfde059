"""Scheduled monitoring: sites, scans with a daily budget, history, diffs and alerts, stored in SQL.

:class:`linkdoctor.monitor.service.Monitor` is the one entry point the web dashboard and the CLI use.
"""
