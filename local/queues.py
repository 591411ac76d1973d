"""SQS for the local runtime: moto's server holds the template's queues (with their visibility timeouts
and redrive policies), and a drain plays the event source mapping: batches to the consumer, a failed
message hidden for its queue's visibility timeout before it is delivered again, poison messages moved
to the dead-letter queue by the redrive policy. A drain says what became of the messages it delivered."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import MotoRequestHandler, ThreadedMotoServer
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from .containers import Runtime
from .template import SqsSource, Template

# A failed message due back within this many seconds is waited for (a test's short timeout); one due
# later (the template's 16 minutes) is left hidden and reported as failed, as a queue would keep it.
WAIT = 10.0


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log: it was a line per SQS call and per S3 poll (twice a second) on `make dev`'s
        console, burying the runtime's own output."""


class _SerialMotoServer(ThreadedMotoServer):
    """moto's server handles requests on threads, and its SQS backend is not safe for that ("Set changed
    size during iteration" under parallel consumers); one request at a time is plenty locally."""

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, app, False, request_handler=_QuietHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class LocalQueues:
    def __init__(self, template: Template) -> None:
        self.template = template
        self.server = _SerialMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.sqs = boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.urls: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        # Seconds a failed message stays hidden, per queue: the template's (SQS's default 30 s without
        # one). Redelivering at once let a 5 s outage use up all of a message's receives; a test may
        # shorten it here.
        self.visibility: dict[str, int] = {}
        self.receives: dict[str, int] = {}  # the redrive policy's maxReceiveCount, per queue that has one
        queues = template.queues()
        # Dead-letter queues first, so a redrive policy can name its target.
        for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]):
            props = queues[name]
            self.visibility[name] = int(props.get("VisibilityTimeout", 30))
            attributes = {"VisibilityTimeout": str(self.visibility[name])}
            redrive = props.get("RedrivePolicy")
            if redrive:
                self.receives[name] = int(redrive["maxReceiveCount"])
                target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": self.arns[target], "maxReceiveCount": str(redrive["maxReceiveCount"])}
                )
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self.urls[name] = url
            self.arns[name] = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]

    def drain(self, runtime: Runtime, concurrency: int = 4) -> dict[str, int]:
        """Feed every consumed queue to its function until none has a message to deliver, a few batches
        at a time (Lambda runs many consumers at once; one at a time would make a sweep crawl). Returns
        how many of the messages it delivered were `settled`, `failed` (hidden until their visibility
        timeout ends, then delivered again) or `dead_lettered` (failed on their last receive)."""
        fates: dict[str, str] = {}  # message id -> what its last delivery in this drain came to
        hidden: dict[str, float] = {}  # a failed message's id -> when it is visible again
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            while True:
                started = time.monotonic()
                jobs: list[tuple[str, Future[dict[str, str]]]] = []
                for source in self.template.sqs_sources():
                    for _ in range(concurrency):
                        got = self.sqs.receive_message(
                            QueueUrl=self.urls[source.queue],
                            MaxNumberOfMessages=min(source.batch_size, 10),
                            AttributeNames=["ApproximateReceiveCount"],
                        )
                        if not got.get("Messages"):
                            break
                        jobs.append((source.queue, pool.submit(self._deliver, runtime, source, got["Messages"])))
                for queue, job in jobs:
                    for message_id, fate in job.result().items():
                        fates[message_id] = fate
                        if fate == "settled":
                            hidden.pop(message_id, None)
                        else:
                            hidden[message_id] = time.monotonic() + self.visibility[queue]
                if jobs:
                    continue
                # Those visible before this pass were received again (and are back if they failed) or
                # moved to the dead-letter queue by the receive.
                hidden = {m: at for m, at in hidden.items() if at > started}
                soonest = min(hidden.values(), default=None)
                if soonest is None or soonest - time.monotonic() > WAIT:
                    counts = {"settled": 0, "failed": 0, "dead_lettered": 0}
                    for fate in fates.values():
                        counts[fate] += 1
                    return counts
                time.sleep(max(0.0, soonest - time.monotonic()) + 0.05)

    def _deliver(self, runtime: Runtime, source: SqsSource, messages: list[dict[str, Any]]) -> dict[str, str]:
        """One batch to its function; each message's fate. A failed one stays hidden for the queue's
        visibility timeout, as the event source mapping leaves it."""
        url = self.urls[source.queue]
        status, result = runtime.invoke(source.function, self._event(source.queue, messages))
        failed = set()
        if status != "ok":
            failed = {m["MessageId"] for m in messages}  # the whole batch failed
        elif isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        fates = {}
        last = self.receives.get(source.queue)
        for m in messages:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=self.visibility[source.queue]
                )
                spent = last is not None and int(m["Attributes"]["ApproximateReceiveCount"]) >= last
                fates[m["MessageId"]] = "dead_lettered" if spent else "failed"
            else:
                fates[m["MessageId"]] = "settled"
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        return fates

    def _event(self, queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {
                        "ApproximateReceiveCount": m["Attributes"]["ApproximateReceiveCount"],
                        "SentTimestamp": str(int(time.time() * 1000)),
                    },
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arns[queue],
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def depth(self, queue: str) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.urls[queue], AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])

    def stop(self) -> None:
        self.server.stop()
