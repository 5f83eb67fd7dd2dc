"""Fixtures for mailings: a real SMTP server on loopback, and a campaign ready to send
(sender with a DKIM key, SMTP transport to that server, a segment of reachable people)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from suffrage.messaging import services
from suffrage.people.models import LegalBasis
from tests.factories import PersonEmailFactory, PersonFactory, SegmentFactory


@dataclass
class MailServer:
    """An aiosmtpd handler keeping what arrives; refuses the addresses in `refusals`."""

    refusals: dict[str, str] = field(default_factory=dict)
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    delay: float = 0.0
    port: int = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(data, policy=email.policy.default) for _rcpts, data in self.received]  # type: ignore[misc]

    def arrivals(self) -> Counter[str]:
        return Counter(rcpt for rcpts, _data in self.received for rcpt in rcpts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mail_server():
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def sending(campaign, manager, mail_server):
    """A sender (RSA DKIM key), an SMTP transport to the loopback server, and a factory of mailings."""
    sender = services.sender_create(
        campaign=campaign,
        name="Équipe Brest",
        email="equipe@brest2027.example",
        reply_to="",
        algorithm="rsa-sha256",
        actor=manager,
    )
    transport = services.transport_save(
        campaign=campaign,
        kind="smtp",
        name="Relais",
        values={"host": "127.0.0.1", "port": str(mail_server.port), "security": "none", "username": "", "password": ""},
        rate_per_second=0,
        actor=manager,
    )

    def mailing(segment=None, **values: Any):
        segment = segment or SegmentFactory(campaign=campaign)
        fields = {
            "name": "Lettre n°1",
            "sender": sender,
            "transport": transport,
            "segment": segment,
            "subject": 'Bonjour {{ first_name|default:"à vous" }}',
            "body": 'Bonjour {{ first_name|default:"Madame, Monsieur" }},\n\nVenez [nous voir](https://brest2027.example/agenda).',
            "footer": services.default_footer(),
        } | values
        return services.mailing_save(campaign=campaign, values=fields, actor=manager)

    return {"sender": sender, "transport": transport, "mailing": mailing}


def reachable_person(campaign, address: str, **fields: Any):
    person = PersonFactory(campaign=campaign, **({"legal_basis": LegalBasis.CONSENT, "consent_email": True} | fields))
    PersonEmailFactory(person=person, address=address)
    return person
