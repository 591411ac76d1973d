"""MigrateDueFunction: the one-off move of the DUE index to its "due on or before" layout (README)."""

from loyalty.jobs.migrate import migrator

handler = migrator()
