"""``linkdoctor fix``: repair the links a check can prove wrong, in the sources people edit.

Planning is separate from writing. :func:`~linkdoctor.fix.run.plan_fixes` checks the inputs (or reads a saved
report's results) and returns a :class:`~linkdoctor.fix.model.FixPlan`: edits that change a URL's text and
nothing else, and the links left alone with the reason. :func:`~linkdoctor.fix.apply.apply_plan` writes the
edits atomically, skipping any file changed since. The modules, one concern each:

* ``model``: the values; ``rules``: redirect, upgrade and dead-link decisions from a result alone;
* ``anchors``: headings and ids of a target page, and the one a missing fragment now means;
* ``probe``: the extra requests (https upgrades, target pages, the web archive's availability API);
* ``sources``: stamps, the tree index and git's former content; ``locate``: where a URL is written;
* ``plan``: decisions → edits; ``apply``: writing; ``render``: diff and JSON; ``saved``: ``--from`` reports.
"""
