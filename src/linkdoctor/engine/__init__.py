"""The crawl-and-check pipeline: inputs, fetching, extraction hand-off, checking, and the run that ties them.

Nothing in here imports the faces (``cli``, ``web``, ``distributed``) or the monitor.
"""
