"""PublishEventsFunction: the table stream's records -> domain events, as the EventBridge Pipe's
enrichment (the Pipe puts what it returns on the bus)."""

from loyalty.jobs.streams import publisher

handler = publisher()
