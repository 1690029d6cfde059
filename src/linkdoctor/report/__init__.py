"""Reports: one module per output format, all rendering the same :class:`~linkdoctor.models.Report`."""
