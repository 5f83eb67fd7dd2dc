"""The compiler against a straightforward Python evaluation of the same filter, on a
varied population: for any filter hypothesis writes, the database query and the
Python reading select exactly the same people (run on SQLite and PostgreSQL)."""

import datetime
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suffrage.canvassing.models import Outcome, Visit
from suffrage.engagement.models import RSVP, Action, Event, Submission
from suffrage.messaging.models import Delivery, Mailing, Sender, TransportConfig
from suffrage.people.models import CustomField, PersonEmail, PersonPhone, PostalAddress, Tag
from suffrage.privacy.services import suppression_add
from suffrage.roll.models import RollLink
from suffrage.segments.compiler import context_for, segment_people
from suffrage.segments.language import AGE_BANDS
from tests import factories

pytestmark = pytest.mark.django_db

TAGS = ["Militante", "Quartier Nord", "Donateur", "Jeunes"]
STATIONS = ["29019_0001", "29019_0002", "29011_0001"]
CHANNELS = ["email", "sms", "phone", "post"]
SOURCES = ["manual", "import", "web_form", "event"]
BASES = ["consent", "member", "legitimate_interest"]
QUARTIERS = ["centre", "bellevue", "recouvrance"]
THEMES = ["transports", "logement", "ecole"]
OUTCOMES = list(Outcome.values)
TODAY = datetime.date.today()
TODAY_AT = datetime.datetime.now(datetime.UTC)


def build_population(campaign, size=70, seed=3):
    """People with every attribute a filter can test, drawn at random (seeded)."""
    rng = random.Random(seed)
    communes = {code: factories.CommuneFactory(code=code, name=code) for code in ("29019", "29011")}
    campaign.communes.create(commune=communes["29019"])  # 29011 is outside the campaign's territory
    stations = {
        code: factories.PollingStationFactory(
            commune=communes[code[:5]],
            code=code,
            number=code[-4:],
            constituency="2902" if code < "29019_0002" else "2903",
        )
        for code in STATIONS
    }
    tags = {name: Tag.objects.create(campaign=campaign, name=name) for name in TAGS}
    CustomField.objects.create(campaign=campaign, key="quartier", label="Quartier", kind="text")
    CustomField.objects.create(campaign=campaign, key="dons", label="Dons", kind="number")
    CustomField.objects.create(campaign=campaign, key="themes", label="Thèmes", kind="multiple", choices=THEMES)
    mailing = mailing_for(campaign)
    action = factories.ActionFactory(campaign=campaign)
    event = factories.EventFactory(campaign=campaign)
    door = factories.DoorFactory(turf__canvass__campaign=campaign, turf__campaign=campaign)
    version = factories.RollVersionFactory(campaign=campaign)
    model = factories.MatchModelFactory(version=version, index_path="matched")
    for index in range(size):
        custom = {}
        if rng.random() < 0.6:
            custom["quartier"] = rng.choice(QUARTIERS)
        if rng.random() < 0.5:
            custom["dons"] = float(rng.choice([0, 10, 50, 120]))
        if rng.random() < 0.5:
            custom["themes"] = rng.sample(THEMES, rng.randint(1, 2))
        person = factories.PersonFactory(
            campaign=campaign,
            first_names=f"P{index}",
            source=rng.choice(SOURCES),
            legal_basis=rng.choice(BASES),
            is_member=rng.random() < 0.3,
            is_volunteer=rng.random() < 0.2,
            is_donor=rng.random() < 0.2,
            support_level=rng.choice([None, 1, 2, 3, 5]),
            birth_date=rng.choice([None, datetime.date(rng.randint(1930, 2007), rng.randint(1, 12), 15)]),
            collected_at=datetime.datetime(2026, rng.randint(1, 12), 10, tzinfo=datetime.UTC),
            custom=custom,
            consent_email=rng.choice([True, False, None]),
            consent_sms=rng.choice([True, False, None]),
            consent_phone=rng.choice([True, False, None]),
            consent_post=rng.choice([True, False, None]),
        )
        person.tags.set([tags[name] for name in TAGS if rng.random() < 0.35])
        if rng.random() < 0.6:
            # Some addresses bounced, some are on the suppression list: not reachable.
            status = rng.choice(["ok", "ok", "ok", "bounced", "complained"])
            address = f"p{index}@example.org"
            PersonEmail.objects.create(person=person, campaign=campaign, address=address, status=status)
            if rng.random() < 0.1:
                suppression_add(campaign=campaign, channel="email", value=address, reason="manual")
        if rng.random() < 0.5:
            sent = rng.random() < 0.8
            Delivery.objects.create(
                mailing=mailing,
                person=person,
                address=f"p{index}@example.org",
                status="sent" if sent else rng.choice(["failed", "queued"]),
                opened_at=TODAY_AT if sent and rng.random() < 0.5 else None,
                clicked_at=TODAY_AT if sent and rng.random() < 0.3 else None,
            )
        _engagement(rng, person, action, event, door)
        if rng.random() < 0.5:
            PersonPhone.objects.create(
                person=person, campaign=campaign, number=f"+3361234{index:04d}", sms_capable=rng.random() < 0.7
            )
        if rng.random() < 0.75:
            code = rng.choice([*STATIONS, None])
            PostalAddress.objects.create(
                person=person,
                street="Rue de Siam",
                insee_code=code[:5] if code else rng.choice(["", "29019"]),
                polling_station=stations[code] if code else None,
                lon=round(rng.uniform(-4.52, -4.46), 5) if rng.random() < 0.85 else None,
                lat=round(rng.uniform(48.37, 48.41), 5),
            )
        roll = rng.random()
        if roll < 0.6:
            station = rng.choice(STATIONS)
            entry = factories.RollEntryFactory(
                version=version, station=stations[station], station_code=station, birth_year=rng.randint(1930, 2007)
            )
            status = rng.choice(["linked", "accepted", "review", "rejected"])
            factories.RollLinkFactory(model=model, campaign=campaign, entry=entry, person=person, status=status)


def _engagement(rng, person, action, event, door):
    """Forms (confirmed or awaiting confirmation), RSVPs (coming, waiting, cancelled,
    checked in or not) and visits with their outcomes."""
    if rng.random() < 0.4:
        factories.SubmissionFactory(action=action, person=person, status=rng.choice(["confirmed", "pending"]))
    if rng.random() < 0.4:
        checked_in = TODAY_AT if rng.random() < 0.4 else None
        status = rng.choice(["going", "waitlist", "cancelled"])
        factories.RSVPFactory(event=event, person=person, status=status, checked_in_at=checked_in)
    for _visit in range(rng.choice([0, 0, 1, 2])):
        factories.VisitFactory(door=door, person=person, outcome=rng.choice(OUTCOMES))


def mailing_for(campaign):
    sender = Sender.objects.create(campaign=campaign, name="S", email="s@example.org")
    transport = TransportConfig.objects.create(campaign=campaign, name="T", kind="sink")
    return Mailing.objects.create(
        campaign=campaign, name="M", sender=sender, transport=transport, subject="s", body="b", footer="f"
    )


def facts_of(campaign):
    """Each person as plain Python data, read with simple queries."""
    people = {}
    for person in campaign.people.all():
        address_rows = list(PostalAddress.objects.filter(person=person).select_related("polling_station__commune"))
        links = list(RollLink.objects.filter(person=person).select_related("entry__station__commune"))
        people[person.pk] = {
            "person": person,
            "tags": set(person.tags.values_list("name", flat=True)),
            "emails": sum(email.status == "ok" for email in PersonEmail.objects.filter(person=person)),
            "deliveries": list(Delivery.objects.filter(person=person)),
            "submissions": list(Submission.objects.filter(person=person).values_list("action_id", "status")),
            "rsvps": list(RSVP.objects.filter(person=person)),
            "visits": set(Visit.objects.filter(person=person).values_list("outcome", flat=True)),
            "phones": list(PersonPhone.objects.filter(person=person).values_list("sms_capable", flat=True)),
            "addresses": address_rows,
            "links": links,
        }
    return people


def linked(facts):
    return [link for link in facts["links"] if link.status in ("linked", "accepted")]


def haversine(lon1, lat1, lon2, lat2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


WITHOUT_CONSENT = {
    "email": {"member"},
    "sms": {"member"},
    "phone": {"member", "legitimate_interest"},
    "post": {"member", "legitimate_interest"},
}


def reachable(facts, channel):
    person = facts["person"]
    consent = getattr(person, f"consent_{channel}")
    if not (consent is True or (consent is None and person.legal_basis in WITHOUT_CONSENT[channel])):
        return False
    return {
        "email": facts["emails"] > 0,
        "sms": any(facts["phones"]),
        "phone": bool(facts["phones"]),
        "post": bool(facts["addresses"]),
    }[channel]


def birth_year(facts):
    person = facts["person"]
    if person.birth_date:
        return person.birth_date.year
    years = [link.entry.birth_year for link in linked(facts)]
    return years[0] if years else None


def custom_matches(value, condition):
    op, wanted, key = condition["op"], condition.get("value"), condition["key"]
    if op == "is_set":
        return value not in (None, "", [])
    if value is None:
        return False
    if op == "equals":
        return value == wanted
    if op == "contains":
        return wanted in value if key == "themes" else wanted.lower() in str(value).lower()
    low, high = wanted.get("min"), wanted.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def holds(condition, facts):
    person, field, value = facts["person"], condition["field"], condition.get("value")
    if field == "tag":
        return bool(facts["tags"] & set(value))
    if field == "commune":
        return any(
            a.insee_code in value or (a.polling_station and a.polling_station.commune.code in value)
            for a in facts["addresses"]
        )
    if field == "constituency":
        return any(a.polling_station and a.polling_station.constituency in value for a in facts["addresses"])
    if field == "polling_station":
        return any(a.polling_station and a.polling_station.code in value for a in facts["addresses"])
    if field == "area":
        (west, south), _se, (east, north), *_rest = value["coordinates"][0]
        return any(a.lon is not None and west < a.lon < east and south < a.lat < north for a in facts["addresses"])
    if field == "near":
        return any(
            a.lon is not None and haversine(value["lon"], value["lat"], a.lon, a.lat) <= value["metres"]
            for a in facts["addresses"]
        )
    if field == "reachable":
        return reachable(facts, value)
    if field == "consent":
        state = getattr(person, f"consent_{value['channel']}")
        return {"granted": state is True, "withdrawn": state is False, "unknown": state is None}[value["state"]]
    if field == "legal_basis":
        return person.legal_basis in value
    if field == "source":
        return person.source in value
    if field == "collected":
        day = person.collected_at.date()
        start, end = value.get("from"), value.get("to")
        return (not start or day >= datetime.date.fromisoformat(start)) and (
            not end or day <= datetime.date.fromisoformat(end)
        )
    if field == "roll_status":
        found = linked(facts)
        here = any(link.entry.station and link.entry.station.commune.code == "29019" for link in found)
        proposed = [link for link in facts["links"] if link.status in ("linked", "accepted", "review")]
        status = {
            "registered_here": here,
            "elsewhere": bool(found) and not here,
            "not_found": not proposed,
            "not_checked": False,  # the campaign has matched
        }
        return any(status[v] for v in value)
    if field == "roll_station":
        return any(link.entry.station_code in value for link in linked(facts))
    if field == "age_band":
        year = birth_year(facts)
        return year is not None and any(AGE_BANDS[b][0] <= TODAY.year - year <= AGE_BANDS[b][1] for b in value)
    if field == "custom":
        return custom_matches(person.custom.get(condition["key"]), condition)
    if field == "flag":
        return getattr(person, f"is_{value}")
    if field == "support_level":
        return person.support_level in value
    if field == "mailing":
        wanted = {"received": "status", "opened": "opened_at", "clicked": "clicked_at"}[condition["op"]]
        return any(
            d.mailing_id == value and (d.status == "sent" if wanted == "status" else getattr(d, wanted) is not None)
            for d in facts["deliveries"]
        )
    if field == "form":
        return (value, "confirmed") in facts["submissions"]
    if field == "event":
        return any(rsvp.event_id == value and _rsvp_is(rsvp, condition["op"]) for rsvp in facts["rsvps"])
    if field == "visit":
        return bool(facts["visits"] & set(value))
    raise AssertionError(field)


def _rsvp_is(rsvp, op):
    if op == "attended":
        return rsvp.checked_in_at is not None
    return rsvp.status == {"rsvp": "going", "waitlist": "waitlist"}[op]


def evaluate(node, facts):
    if "all" in node:
        return all(evaluate(child, facts) for child in node["all"])
    if "any" in node:
        return any(evaluate(child, facts) for child in node["any"])
    if "not" in node:
        return not evaluate(node["not"], facts)
    return holds(node, facts)


def some(values):
    return st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)


def iso(day):
    return day.isoformat()


box = st.tuples(st.floats(-4.53, -4.47), st.floats(48.36, 48.40), st.floats(0.005, 0.05), st.floats(0.005, 0.03)).map(
    lambda t: {
        "type": "Polygon",
        "coordinates": [
            [[t[0], t[1]], [t[0] + t[2], t[1]], [t[0] + t[2], t[1] + t[3]], [t[0], t[1] + t[3]], [t[0], t[1]]]
        ],
    }
)
ENGAGEMENT = st.one_of(
    st.builds(
        lambda op: {"field": "mailing", "op": op, "value": "MAILING"},
        st.sampled_from(["received", "opened", "clicked"]),
    ),
    st.just({"field": "form", "op": "submitted", "value": "ACTION"}),
    st.builds(
        lambda op: {"field": "event", "op": op, "value": "EVENT"}, st.sampled_from(["rsvp", "waitlist", "attended"])
    ),
    st.builds(lambda v: {"field": "visit", "op": "in", "value": v}, some(OUTCOMES)),
)
CONDITION = st.one_of(
    st.builds(lambda v: {"field": "tag", "op": "any_of", "value": v}, some(TAGS)),
    st.builds(lambda v: {"field": "commune", "op": "in", "value": v}, some(["29019", "29011"])),
    st.builds(lambda v: {"field": "constituency", "op": "in", "value": v}, some(["2902", "2903"])),
    st.builds(lambda v: {"field": "polling_station", "op": "in", "value": v}, some(STATIONS)),
    st.builds(lambda v: {"field": "area", "op": "within", "value": v}, box),
    st.builds(
        lambda lon, lat, m: {"field": "near", "op": "within", "value": {"lon": lon, "lat": lat, "metres": m}},
        st.floats(-4.52, -4.46),
        st.floats(48.37, 48.41),
        st.integers(100, 3000),
    ),
    st.builds(lambda v: {"field": "reachable", "op": "is", "value": v}, st.sampled_from(CHANNELS)),
    st.builds(
        lambda c, s: {"field": "consent", "op": "is", "value": {"channel": c, "state": s}},
        st.sampled_from(CHANNELS),
        st.sampled_from(["granted", "withdrawn", "unknown"]),
    ),
    st.builds(lambda v: {"field": "legal_basis", "op": "in", "value": v}, some(BASES)),
    st.builds(lambda v: {"field": "source", "op": "in", "value": v}, some(SOURCES)),
    st.builds(
        lambda a, b: {"field": "collected", "op": "between", "value": {"from": iso(min(a, b)), "to": iso(max(a, b))}},
        st.dates(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
        st.dates(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)),
    ),
    st.builds(
        lambda v: {"field": "roll_status", "op": "in", "value": v},
        some(["registered_here", "elsewhere", "not_found", "not_checked"]),
    ),
    st.builds(lambda v: {"field": "roll_station", "op": "in", "value": v}, some(STATIONS)),
    st.builds(lambda v: {"field": "age_band", "op": "in", "value": v}, some(list(AGE_BANDS))),
    st.builds(lambda v: {"field": "custom", "key": "quartier", "op": "equals", "value": v}, st.sampled_from(QUARTIERS)),
    st.builds(
        lambda v: {"field": "custom", "key": "quartier", "op": "contains", "value": v},
        st.sampled_from(["cent", "BELLE", "ou"]),
    ),
    st.builds(lambda k: {"field": "custom", "key": k, "op": "is_set"}, st.sampled_from(["quartier", "dons", "themes"])),
    st.builds(
        lambda lo, hi: {
            "field": "custom",
            "key": "dons",
            "op": "range",
            "value": {"min": min(lo, hi), "max": max(lo, hi)},
        },
        st.sampled_from([0, 5, 10, 50]),
        st.sampled_from([10, 50, 100, 200]),
    ),
    st.builds(lambda v: {"field": "custom", "key": "themes", "op": "contains", "value": v}, st.sampled_from(THEMES)),
    st.builds(lambda v: {"field": "flag", "op": "is", "value": v}, st.sampled_from(["member", "volunteer", "donor"])),
    st.builds(lambda v: {"field": "support_level", "op": "in", "value": v}, some([1, 2, 3, 4, 5])),
    ENGAGEMENT,
)
NODE = st.recursive(
    CONDITION,
    lambda children: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(children, max_size=4)),
        st.builds(lambda c: {"any": c}, st.lists(children, max_size=4)),
        st.builds(lambda c: {"not": c}, children),
    ),
    max_leaves=8,
)
# The shapes the compiler writes differently at the top of a filter: an engagement
# condition, an OR of engagement conditions (one IN over their UNION), and a NOT over
# an OR (one NOT per alternative).
TOP = st.builds(
    lambda c: {"all": c},
    st.lists(
        st.one_of(
            ENGAGEMENT,
            st.builds(lambda c: {"any": c}, st.lists(ENGAGEMENT, min_size=2, max_size=3)),
            st.builds(lambda c: {"not": {"any": c}}, st.lists(NODE, max_size=3)),
            NODE,
        ),
        min_size=1,
        max_size=4,
    ),
)


def with_ids(node, ids):
    """The strategies cannot know the mailing's, form's or event's id: put them in place
    of "MAILING", "ACTION" and "EVENT"."""
    if isinstance(node, dict):
        return {
            key: ids[value] if isinstance(value, str) and value in ids else with_ids(value, ids)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [with_ids(child, ids) for child in node]
    return node


@pytest.fixture
def population(campaign):
    build_population(campaign)
    return facts_of(campaign)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=st.one_of(NODE, TOP))
def test_the_query_and_the_python_reading_agree(campaign, population, node):
    ids = {
        "MAILING": Mailing.objects.get(campaign=campaign).pk,
        "ACTION": Action.objects.get(campaign=campaign).pk,
        "EVENT": Event.objects.get(campaign=campaign).pk,
    }
    node = with_ids(node, ids)
    document = {"version": 1, "filter": node}
    context = context_for(campaign, can_sensitive=True)
    selected = set(segment_people(campaign, document, context).values_list("pk", flat=True))
    expected = {pk for pk, facts in population.items() if evaluate(node, facts)}
    assert selected == expected
