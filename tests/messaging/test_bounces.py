"""DSN (RFC 3464) and ARF (RFC 5965) parsing for the SMTP bounce mailbox."""

from __future__ import annotations

from pathlib import Path

from suffrage.messaging.bounces import Bounce, parse_bounce

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name: str) -> list[Bounce]:
    return parse_bounce((FIXTURES / name).read_bytes())


def test_postfix_unknown_user_is_a_permanent_failure():
    assert parse("dsn_postfix_user_unknown.eml") == [
        Bounce(
            recipient="jean.kerouac@wanadoo.example",
            action="failed",
            status="5.1.1",
            permanent=True,
            diagnostic="550 5.1.1 <jean.kerouac@wanadoo.example>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
            original_message_id="<20260310081421.7f3a9c@brest2027.example>",
            delivery_ref="d-8f14e45fceea167a5a36dedd4bea2543",
        )
    ]


def test_postfix_delay_warning_is_not_permanent():
    [bounce] = parse("dsn_postfix_delayed.eml")
    assert bounce.recipient == "marie.le-gall@mairie-quimper.example"
    assert (bounce.action, bounce.status, bounce.permanent) == ("delayed", "4.4.1", False)
    assert bounce.diagnostic.startswith("connect to mx.mairie-quimper.example[198.51.100.7]:25")
    assert bounce.delivery_ref == "d-c9f0f895fb98ab9159f51fd0297e236d"


def test_exim_report_gives_one_bounce_per_recipient_and_reads_the_returned_message():
    bounces = parse("dsn_exim_two_recipients.eml")
    assert [b.recipient for b in bounces] == ["yann.morvan@free.example", "anne@closed-domain.example"]
    assert all(b.permanent and b.action == "failed" and b.status == "5.0.0" for b in bounces)
    assert bounces[0].diagnostic.startswith("550 5.1.1 <yann.morvan@free.example>")
    assert bounces[1].diagnostic == ""
    assert {b.original_message_id for b in bounces} == {"<20260312094106.55cc01@brest2027.example>"}
    assert {b.delivery_ref for b in bounces} == {"d-45c48cce2e2d7fbdea1afc51c7c6ad26"}


def test_arf_spam_complaint():
    assert parse("arf_complaint.eml") == [
        Bounce(
            recipient="sylvie.tanguy@mailbox-provider.example",
            action="complaint",
            status="",
            permanent=True,
            diagnostic="abuse",
            original_message_id="<20260313090111.a1b2c3@brest2027.example>",
            delivery_ref="d-d3d9446802a44259755d38e6d163e820",
        )
    ]


def test_complaint_without_original_rcpt_to_falls_back_to_the_returned_to():
    raw = (FIXTURES / "arf_complaint.eml").read_bytes()
    raw = raw.replace(b"Original-Rcpt-To: <sylvie.tanguy@mailbox-provider.example>\n", b"")
    raw = raw.replace(
        b"To: sylvie.tanguy@mailbox-provider.example\n", b"To: Sylvie Tanguy <sylvie.tanguy@mailbox-provider.example>\n"
    )
    [bounce] = parse_bounce(raw)
    assert bounce.recipient == "sylvie.tanguy@mailbox-provider.example"


def test_ordinary_mail_is_not_a_bounce():
    assert parse("ordinary_reply.eml") == []


def test_report_without_status_part_or_of_another_type_gives_nothing():
    raw = (FIXTURES / "dsn_postfix_user_unknown.eml").read_bytes()
    assert parse_bounce(raw.replace(b"report-type=delivery-status", b"report-type=disposition-notification")) == []
    assert parse_bounce(raw.replace(b"Content-Type: message/delivery-status", b"Content-Type: text/plain")) == []
    assert parse_bounce(b"") == []
