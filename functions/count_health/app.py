"""CountHealthFunction: the table's stream -> the programs' health counters (exactly once per record)."""

from loyalty.jobs.streams import counter

handler = counter()
