"""SQS for the local runtime: moto's server holds the template's queues (with their redrive policies),
and a drain plays the event source mapping: batches to the consumer, partial failures retried, poison
messages moved to the dead-letter queue by the redrive policy, until every queue is empty."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from moto.moto_server.threaded_moto_server import MotoRequestHandler, ThreadedMotoServer
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from .containers import Runtime
from .template import SqsSource, Template


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
        queues = template.queues()
        # Dead-letter queues first, so a redrive policy can name its target.
        for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]):
            props = queues[name]
            # A received message stays hidden while its batch runs; a failed one is made visible again
            # at once (below), so nobody waits the template's 16 minutes for a local retry.
            attributes = {"VisibilityTimeout": "120"}
            redrive = props.get("RedrivePolicy")
            if redrive:
                target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": self.arns[target], "maxReceiveCount": str(redrive["maxReceiveCount"])}
                )
            url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            self.urls[name] = url
            self.arns[name] = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]

    def drain(self, runtime: Runtime, concurrency: int = 4) -> None:
        """Feed every consumed queue to its function until all are empty, a few batches at a time
        (Lambda runs many consumers at once; one at a time would make a sweep crawl)."""
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            while True:
                jobs = []
                for source in self.template.sqs_sources():
                    for _ in range(concurrency):
                        got = self.sqs.receive_message(
                            QueueUrl=self.urls[source.queue], MaxNumberOfMessages=min(source.batch_size, 10)
                        )
                        if not got.get("Messages"):
                            break
                        jobs.append(pool.submit(self._deliver, runtime, source, got["Messages"]))
                if not jobs:
                    return
                for job in jobs:
                    job.result()

    def _deliver(self, runtime: Runtime, source: SqsSource, messages: list[dict[str, Any]]) -> None:
        url = self.urls[source.queue]
        status, result = runtime.invoke(source.function, self._event(source.queue, messages))
        failed = set()
        if status != "ok":
            failed = {m["MessageId"] for m in messages}  # the whole batch failed
        elif isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for m in messages:
            if m["MessageId"] in failed:
                self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)

    def _event(self, queue: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
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
