"""MigrateDueFunction: the one-off moves after an index change: the DUE index to its "due on or before"
layout (`{}`), and old members into the audience index (`{"index": "audience"}`) (README)."""

from loyalty.jobs.migrate import migrator

handler = migrator()
