"""ImportFileFunction: an import file in the import bucket -> its batches on the work queue."""

from loyalty.jobs.imports import planner

handler = planner()
