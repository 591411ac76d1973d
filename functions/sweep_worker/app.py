"""SweepWorkerFunction: settles the due members of one (kind, shard) work item per record."""

from loyalty.jobs.worker import worker

handler = worker()
