"""What differs between the series this addon runs on, in one place.

The source is written for Odoo 18. ``tools/series.py`` writes the addon for another series and sets
``SERIES`` below (17, 18 or 19; Flectra 3, which is based on Odoo 17, is 17). Code that depends on the
series asks this module, never ``odoo.release``.
"""

SERIES = 18
