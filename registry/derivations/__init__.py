"""Clinical derivations: pure, typed functions with no ORM import.

Each module cites its source and carries a version constant; services store the version used
beside every derived value so that a report can say which rule produced it.
"""
