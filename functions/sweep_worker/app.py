"""SweepWorkerFunction: settles the due members of one (program, kind, day, shard) work item per record."""

from loyalty.jobs.worker import worker

handler = worker()
