"""DynamoDB Local answers on 127.0.0.1 only: anyone who can reach this machine must not read the table."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.integration.ddb_local import DynamoDBLocal, ddb_client, start_ddb_local

pytestmark = pytest.mark.integration


def outward_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture(scope="module")
def ddb() -> Iterator[DynamoDBLocal]:
    running = start_ddb_local()
    yield running
    running.stop()


def test_it_answers_on_loopback(ddb: DynamoDBLocal) -> None:
    assert "TableNames" in ddb_client(ddb).list_tables()


def test_it_is_not_reachable_on_another_address_of_this_machine(ddb: DynamoDBLocal) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((address, ddb.port)) != 0, f"DynamoDB Local answers on {address}:{ddb.port}"
