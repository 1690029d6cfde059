"""Test helpers shared by the unit and integration suites: real servers, hostile servers, certificates."""
