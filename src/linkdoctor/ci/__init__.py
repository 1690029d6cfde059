"""CI integrations: entry points that CI systems run around ``linkdoctor check`` (see ``action.yml``)."""
