"""Pure statistics for registry reports.

Every function here takes and returns pandas/numpy objects and imports nothing from Django,
so the methods can be tested against published reference values (the seed studies' tables and
R's ``survival`` package) without a database. Conventions follow ``spec/ANALYSIS.md``:
Pearson χ² without continuity correction, R ``survfit``/``survdiff``/``coxph`` defaults for
survival, percentages to 2 decimals, statistics and p to 3.
"""

METHODS_VERSION = "1.0"
