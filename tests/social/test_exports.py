"""Reading the platforms' export files: leads, followers and connections.

The fixtures follow each platform's documented export:

- Lead Ads: Meta's "Retrieving Leads" guide (the CSV/TSV download of a form's leads,
  is_organic, ad and form ids), https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving
  and the files Ads Manager and Leads Center give: "l:", "p:", "z:" before ids, phones
  and postcodes, standard fields keyed in the form's language, UTF-16 with tabs from Leads Center.
- X: "How to download your X archive", https://help.x.com/en/managing-your-account/how-to-download-your-x-archive
  (data/follower.js and data/following.js, `window.YTD.follower.part0 = [...]`).
- Instagram: "Download your information" in Accounts Center, JSON format, with
  connections/followers_and_following/followers_1.json (older exports give the
  username as "value", newer ones as the item's "title").
- LinkedIn: "Download your account data", https://www.linkedin.com/help/linkedin/answer/a1339364
  (Connections.csv, after a "Notes:" preamble; emails only where the connection allows it).

No database is needed: the parsers only read bytes.
"""

import codecs
import csv
import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suffrage.social import exports
from suffrage.social.exports import (
    EXPORT_KINDS,
    parse_export,
    parse_instagram_followers,
    parse_lead_ads_csv,
    parse_linkedin_connections,
    parse_x_followers,
)
from suffrage.social.records import ExportError, RowProblem, SocialRecord

FIXTURES = Path(__file__).parent / "fixtures"
MEGABYTE = 1024 * 1024
PARIS_SUMMER = datetime.timezone(datetime.timedelta(hours=2))
PARIS_WINTER = datetime.timezone(datetime.timedelta(hours=1))
UTC = datetime.UTC
LEAD_HEADER = "id,created_time,form_id,is_organic,platform,full_name,email,phone_number"
OPT_IN = "j'accepte_de_recevoir_les_actualités_de_la_campagne_par_e-mail_et_par_sms"
OPT_IN_WORDING = "j'accepte de recevoir les actualités de la campagne par e-mail et par sms"
QUESTION = "quel_sujet_compte_le_plus_pour_vous_à_brest_?"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def leads(*lines: str) -> bytes:
    return "\r\n".join(lines).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def refused(parse, data: bytes, filename: str = "") -> str:
    with pytest.raises(ExportError) as error:
        parse(data, filename)
    return str(error.value)


# --- The kinds --------------------------------------------------------------


def test_every_kind_has_a_label_and_a_parser():
    assert set(EXPORT_KINDS) == {"lead_ads_csv", "x_followers", "instagram_followers", "linkedin_connections"}
    assert str(EXPORT_KINDS["linkedin_connections"]) == "LinkedIn connections (Connections.csv)"
    result = parse_export("x_followers", fixture("follower.js"), "follower.js")
    assert len(result.records) == 5


def test_an_unknown_kind_is_the_callers_mistake():
    with pytest.raises(ValueError, match="Unknown kind of export") as error:
        parse_export("myspace_friends", b"")
    assert not isinstance(error.value, ExportError)


# --- Lead Ads: the Ads Manager CSV (UTF-8, commas, CRLF, BOM) -----------------


def test_the_ads_manager_export_gives_one_record_per_usable_lead():
    result = parse_lead_ads_csv(fixture("lead_ads.csv"), "lead_ads.csv")
    # Row 4 is empty; row 6 has nothing to reach the person by.
    assert [record.row for record in result.records] == [2, 3, 5, 7, 8, 9]
    assert result.records[0] == SocialRecord(
        network="facebook",
        row=2,
        external_id="1482093561120457",  # "l:" dropped: the lead's id as the Graph API gives it
        display_name="Hélène Le Goff",
        email="helene.legoff@example.fr",
        phone="+33612345601",
        town="Brest",
        postcode="29200",
        consents={"email": True, "sms": True},
        consent_wording=OPT_IN_WORDING,
        answers={QUESTION: "les_transports_en_commun"},
        collected_at=datetime.datetime(2026, 10, 12, 18, 22, 31, tzinfo=PARIS_SUMMER),
    )


def test_an_instagram_lead_with_a_phone_only_and_an_opt_in_refused():
    lead = parse_lead_ads_csv(fixture("lead_ads.csv")).records[1]
    assert lead.network == "instagram"
    assert lead.external_id == "1482093561120458"
    assert lead.display_name == "Maël Kerjean"  # typed in capitals
    assert (lead.email, lead.phone) == ("", "+33612345602")
    assert lead.town == "Brest"
    assert lead.consents == {"email": False, "sms": False}
    assert lead.answers == {QUESTION: "Le logement, surtout pour les étudiants"}  # a quoted comma


def test_a_lead_with_an_invalid_email_is_kept_without_it():
    result = parse_lead_ads_csv(fixture("lead_ads.csv"))
    lead = next(record for record in result.records if record.row == 5)
    assert (lead.display_name, lead.email, lead.phone) == ("Jean Dupont", "", "+33612345603")
    assert lead.consents == {"email": True, "sms": True}  # "true"
    assert (
        RowProblem(
            5,
            "email",
            "“jean.dupont@@example.fr” is not a valid email address. The row is kept without this email address.",
        )
        in result.problems
    )


def test_the_problems_of_the_ads_manager_export():
    result = parse_lead_ads_csv(fixture("lead_ads.csv"))
    assert result.problems == [
        RowProblem(
            5,
            "email",
            "“jean.dupont@@example.fr” is not a valid email address. The row is kept without this email address.",
        ),
        RowProblem(6, "email", "The lead has no email, phone number or name: it is skipped."),
        RowProblem(7, "phone", "“12345” is not a valid phone number. The row is kept without this phone number."),
    ]
    lead = next(record for record in result.records if record.row == 7)
    assert (lead.email, lead.phone) == ("sophie.martin@example.org", "")
    assert lead.consents == {"email": False, "sms": False}  # a blank: the box was left unticked


def test_a_multiline_answer_a_utc_offset_and_spaces_in_a_phone():
    lead = next(record for record in parse_lead_ads_csv(fixture("lead_ads.csv")).records if record.row == 8)
    assert lead.answers == {QUESTION: "La sécurité\net l'éclairage des rues"}
    assert lead.collected_at == datetime.datetime(2026, 10, 14, 8, 0, tzinfo=UTC)  # "+0000"
    assert lead.phone == "+33612345604"
    assert (lead.town, lead.postcode) == ("Guipavas", "29490")


# --- Lead Ads: the Leads Center CSV (UTF-16 LE, tabs, French keys) -----------


def test_the_leads_center_export_in_utf16_with_tabs_and_french_keys():
    data = fixture("lead_ads_leads_center.csv")
    assert data.startswith(codecs.BOM_UTF16_LE)
    result = parse_lead_ads_csv(data, "lead_ads_leads_center.csv")
    assert result.problems == []
    wording = "j'accepte d'être recontacté·e par l'équipe de campagne"
    assert result.records == [
        SocialRecord(
            network="facebook",
            row=2,
            external_id="2201938475610001",
            display_name="Gwenaëlle Le Bihan",
            first_name="Gwenaëlle",
            last_name="Le Bihan",
            email="gwen.lebihan@example.fr",
            phone="+33612345611",
            town="Brest",
            postcode="29200",
            # A consent naming no channel covers the ways the lead gave.
            consents={"email": True, "sms": True},
            consent_wording=wording,
            collected_at=datetime.datetime(2026, 11, 2, 9, 14, 55, tzinfo=PARIS_WINTER),
        ),
        SocialRecord(
            network="instagram",
            row=3,
            external_id="2201938475610002",
            display_name="Erwan Le Gall",
            first_name="Erwan",
            last_name="Le Gall",
            phone="+33298123456",
            town="Brest",
            postcode="29200",
            consents={"sms": True},
            consent_wording=wording,
            collected_at=datetime.datetime(2026, 11, 2, 11, 48, 3, tzinfo=PARIS_WINTER),
        ),
        SocialRecord(
            network="facebook",
            row=4,
            external_id="2201938475610003",
            display_name="Anne Quéré",
            first_name="Anne",
            last_name="Quéré",
            email="anne.quere@example.com",
            town="Brest",
            postcode="29200",
            consents={"email": False},
            consent_wording=wording,
            collected_at=datetime.datetime(2026, 11, 3, 17, 22, 40, tzinfo=PARIS_WINTER),
        ),
    ]


def test_utf16_without_a_bom_and_a_semicolon_resave_are_read_too():
    text = f"{LEAD_HEADER}\r\nl:1,2026-10-12T18:22:31+02:00,f:9,false,fb,Anne Quéré,anne@example.fr,\r\n"
    for data in (text.encode("utf-16-le"), text.replace(",", ";").encode("cp1252")):
        [lead] = parse_lead_ads_csv(data).records
        assert (lead.external_id, lead.display_name, lead.email) == ("1", "Anne Quéré", "anne@example.fr")


# --- Lead Ads: columns and values ---------------------------------------------


def test_opt_in_columns_name_their_channels():
    header = (
        f"{LEAD_HEADER},opt_in_newsletter,Consentement SMS,J'accepte d'être appelé·e par téléphone,"
        "I consent to receive letters by post"
    )
    result = parse_lead_ads_csv(leads(header, "l:1,,,,fb,Anne,anne@example.fr,0612345678,yes,Non,oui,1"))
    assert result.problems == []
    [lead] = result.records
    assert lead.consents == {"email": True, "sms": False, "phone": True, "post": True}
    assert lead.consent_wording.splitlines() == [
        "opt in newsletter",
        "Consentement SMS",
        "J'accepte d'être appelé·e par téléphone",
        "I consent to receive letters by post",
    ]


def test_a_ticked_box_may_be_written_as_its_own_text():
    header = f"{LEAD_HEADER},J'accepte d'être recontacté·e"
    [lead] = parse_lead_ads_csv(leads(header, "l:1,,,,fb,Anne,anne@example.fr,,J'accepte d'être recontacté·e")).records
    assert lead.consents == {"email": True}


def test_a_consent_that_is_neither_yes_nor_no_is_not_recorded():
    result = parse_lead_ads_csv(leads(f"{LEAD_HEADER},consent", "l:1,,,,fb,Anne,anne@example.fr,,peut-être"))
    [lead] = result.records
    assert lead.consents == {}
    assert lead.consent_wording == ""
    assert result.problems == [
        RowProblem(
            2, "consents", "“peut-être” in the column “consent” is neither yes nor no: no consent is recorded from it."
        )
    ]


def test_the_names_may_come_as_first_and_last_name_and_extra_columns_are_answers():
    header = "id,created_time,first_name,last_name,EMAIL,street_address,ad_name,lead_status,,Votre quartier ?"
    [lead] = parse_lead_ads_csv(
        leads(header, "l:7,2026-10-12 18:22:31,JEAN-PIERRE,LE GOFF,JP@EXAMPLE.FR,3 rue de Siam,Ad,CREATED,x,Siam")
    ).records
    assert (lead.first_name, lead.last_name, lead.display_name) == ("Jean-Pierre", "Le Goff", "Jean-Pierre Le Goff")
    assert lead.email == "jp@example.fr"
    # SocialRecord has no address: the street goes with the answers. The ad's
    # columns, and a column without a name, do not.
    assert lead.answers == {"street_address": "3 rue de Siam", "Votre quartier ?": "Siam"}
    assert lead.collected_at == datetime.datetime(2026, 10, 12, 18, 22, 31, tzinfo=UTC)  # no offset: UTC


def test_row_problems_name_the_row_and_the_field():
    header = "id,created_time,full_name,email,phone_number,post_code"
    result = parse_lead_ads_csv(
        leads(
            header,
            ",2026-10-12T18:22:31+02:00,Anne,anne@example.fr,,",
            "l:2,yesterday,Anne,anne@example.fr,,z:292",
            "",
            "l:3,2026-10-12T18:22:31+02:00,,not-an-email,+33 6,",
        )
    )
    assert result.problems == [
        RowProblem(2, "external_id", "The lead has no id (column “id”): it is skipped."),
        RowProblem(
            3,
            "postcode",
            "“292” is not a valid French postcode (five digits). The row is kept without this postcode.",
        ),
        RowProblem(
            3,
            "collected_at",
            "“yesterday” in the column “created_time” is not a date and time (such as 2026-10-12T18:22:31+02:00): "
            "the lead is kept without it.",
        ),
        RowProblem(
            5, "email", "“not-an-email” is not a valid email address. The row is kept without this email address."
        ),
        RowProblem(5, "phone", "“+33 6” is not a valid phone number. The row is kept without this phone number."),
        RowProblem(5, "email", "The lead has no email, phone number or name: it is skipped."),
    ]
    [lead] = result.records
    assert (lead.row, lead.postcode, lead.collected_at) == (3, "", None)


def test_short_and_long_rows_are_fitted_to_the_header():
    [short, long] = parse_lead_ads_csv(leads(LEAD_HEADER, "l:1,,,,fb,Anne", "l:2,,,,ig,Bob,,,extra,cells")).records
    assert (short.display_name, short.email, long.display_name, long.network) == ("Anne", "", "Bob", "instagram")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "Nom;Prénom;Email\nDupont;Jean;jean@example.fr\n".encode(),
        b"id,email\n1,jean@example.fr\n",  # another tool's CSV: no created_time
        b"id,created_time,ad_id\nl:1,2026-10-12,ag:2\n",  # no way to reach anyone
    ],
)
def test_a_file_that_is_not_a_lead_export_is_refused(data):
    assert refused(parse_lead_ads_csv, data) == (
        "This is not a Facebook / Instagram lead form export: expected the CSV downloaded from Ads Manager or "
        "Leads Center, with the columns id, created_time, and email, phone_number or full_name."
    )


def test_the_linkedin_and_lead_exports_are_not_mistaken_for_each_other():
    assert refused(parse_lead_ads_csv, fixture("Connections.csv")).startswith("This is not a Facebook / Instagram")
    assert refused(parse_linkedin_connections, fixture("lead_ads.csv")).startswith("This is not a LinkedIn")


# --- Limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    "parse", [parse_lead_ads_csv, parse_x_followers, parse_instagram_followers, parse_linkedin_connections]
)
def test_a_file_over_50_mb_is_refused(parse):
    data = fixture("lead_ads.csv") + b" " * (50 * MEGABYTE)
    assert refused(parse, data) == "The file is 50.1 MB; the limit is 50 MB."


def test_more_than_200000_followers_are_refused():
    data = b"window.YTD.follower.part0 = [" + b",".join([b"{}"] * 200_001) + b"]"
    assert refused(parse_x_followers, data) == (
        "The file holds more than 200,000 leads or followers, the most that can be read at once."
    )


def test_json_that_would_build_millions_of_objects_is_refused_before_parsing():
    data = b"[" + b",".join([b"[]"] * 2_000_000) + b"]"
    assert "more than 200,000" in refused(parse_instagram_followers, data)


def test_too_many_rows_are_refused(monkeypatch):
    monkeypatch.setattr(exports, "MAX_RECORDS", 2)
    rows = [f"l:{number},,,,fb,Anne,,0612345678" for number in range(3)]
    assert refused(parse_lead_ads_csv, leads(LEAD_HEADER, *rows)) == (
        "The file holds more than 2 leads or followers, the most that can be read at once."
    )
    assert len(parse_lead_ads_csv(leads(LEAD_HEADER, *rows[:2])).records) == 2


# --- X ----------------------------------------------------------------------


def test_the_followers_of_the_x_archive():
    result = parse_x_followers(fixture("follower.js"), "follower.js")
    assert result.problems == []
    assert [record.external_id for record in result.records] == [
        "1456789012345678901",
        "987654321",
        "1603324871234567890",
        "44196397",
        "1790000000000000002",
    ]
    # The archive gives no handle: only the id and a link to the account.
    assert result.records[3] == SocialRecord(
        network="x", row=4, external_id="44196397", url="https://twitter.com/intent/user?user_id=44196397"
    )


def test_the_accounts_followed_are_refused_naming_the_file():
    assert refused(parse_x_followers, fixture("following.js"), "data/following.js") == (
        "“following.js” is the list of the accounts you follow, not of your followers: choose data/follower.js."
    )


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'[{"follower": {"accountId": "1"}}]',  # the prefix is what says it is the archive's file
        b"window.YTD.tweets.part0 = []",
        b"window.YTD.follower.part0 = {",
        b"window.YTD.follower.part0 = {}",
        b"window.YTD.follower.part0 = " + b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_a_file_that_is_not_follower_js_is_refused(data):
    assert refused(parse_x_followers, data) == (
        "This is not the list of your X (Twitter) followers: expected the file data/follower.js "
        "from the archive of your data that X sends."
    )


def test_a_later_part_a_missing_link_and_broken_items():
    items = [
        {"follower": {"accountId": "12", "userLink": "https://x.com/intent/user?user_id=12"}},
        {"follower": {"accountId": 34}},
        {"follower": {"accountId": "javascript:alert(1)"}},
        {"following": {"accountId": "56"}},
        "56",
        {"follower": {"accountId": "78", "userLink": "javascript:alert(1)"}},
    ]
    data = ("window.YTD.follower.part1 = " + json.dumps(items) + ";\n").encode()
    result = parse_x_followers(data)
    assert [(record.row, record.external_id, record.url) for record in result.records] == [
        (1, "12", "https://x.com/intent/user?user_id=12"),
        (2, "34", "https://twitter.com/intent/user?user_id=34"),
        (6, "78", "https://twitter.com/intent/user?user_id=78"),
    ]
    assert result.problems == [
        RowProblem(3, "external_id", "The follower has no account id (“accountId”): it is skipped."),
        RowProblem(4, "external_id", "This item is not a follower: it is skipped."),
        RowProblem(5, "external_id", "This item is not a follower: it is skipped."),
    ]


# --- Instagram --------------------------------------------------------------


def test_the_followers_of_the_instagram_export_in_both_shapes():
    result = parse_instagram_followers(fixture("followers_1.json"), "followers_1.json")
    assert result.problems == []
    assert result.records[0] == SocialRecord(
        network="instagram",
        row=1,
        handle="helene.legoff",
        url="https://www.instagram.com/helene.legoff",
        collected_at=datetime.datetime(2024, 10, 27, 3, 33, 20, tzinfo=UTC),
    )
    # Newer exports: the username is the item's title, the address has /_u/.
    assert result.records[3] == SocialRecord(
        network="instagram",
        row=4,
        handle="nolwenn.tanguy",
        url="https://www.instagram.com/nolwenn.tanguy",
        collected_at=datetime.datetime(2025, 10, 9, 8, 53, 20, tzinfo=UTC),
    )
    assert [record.handle for record in result.records] == [
        "helene.legoff",
        "mael_kerjean29",
        "brest.velo",
        "nolwenn.tanguy",
        "YannickMorvan",
    ]


def test_the_older_wrapped_list_a_username_from_the_address_and_broken_items():
    items = [
        {"string_list_data": [{"href": "https://www.instagram.com/_u/from.the.link", "timestamp": 1730000000}]},
        {"title": "", "string_list_data": [{"value": "@with_at", "timestamp": "yesterday"}]},
        {"title": "", "string_list_data": []},
        {"title": "not a username!", "string_list_data": []},
        ["not", "an", "item"],
        {"title": "no_time", "string_list_data": [{"timestamp": 10**30}]},
    ]
    result = parse_instagram_followers(json.dumps({"relationships_followers": items}).encode())
    assert [(record.row, record.handle, record.collected_at) for record in result.records] == [
        (1, "from.the.link", datetime.datetime(2024, 10, 27, 3, 33, 20, tzinfo=UTC)),
        (2, "with_at", None),
        (6, "no_time", None),
    ]
    assert result.problems == [
        RowProblem(2, "collected_at", "“yesterday” is not a time (“timestamp”): the follower is kept without it."),
        RowProblem(3, "handle", "The follower has no username: it is skipped."),
        RowProblem(4, "handle", "“not a username!” is not an Instagram username: the follower is skipped."),
        RowProblem(5, "handle", "The follower has no username: it is skipped."),
        RowProblem(
            6,
            "collected_at",
            "“1000000000000000000000000000000” is not a time (“timestamp”): the follower is kept without it.",
        ),
    ]


def test_the_whole_instagram_export_as_a_zip():
    second = [{"title": "", "media_list_data": [], "string_list_data": [{"value": "sixth", "timestamp": 1}]}]
    data = zipped(
        {
            "media/posts/202410/photo.jpg": b"\xff\xd8\xff\xe0",
            "connections/followers_and_following/following.json": b'{"relationships_following": []}',
            "connections/followers_and_following/followers_2.json": json.dumps(second).encode(),
            "connections/followers_and_following/followers_1.json": fixture("followers_1.json"),
        }
    )
    result = parse_instagram_followers(data, "instagram-brest2027-2026-10-12.zip")
    assert result.problems == []
    # followers_1 before followers_2, numbered on from one to the next
    assert [(record.row, record.handle) for record in result.records][-2:] == [(5, "YannickMorvan"), (6, "sixth")]


def test_the_html_export_is_refused_with_what_to_choose_instead():
    message = (
        "This is the HTML version of the Instagram export, which cannot be read: download your information again "
        "and choose the JSON format."
    )
    html = b"<html><head><title>Followers</title></head><body></body></html>"
    assert refused(parse_instagram_followers, html, "followers_1.html") == message
    zip_of_html = zipped({"connections/followers_and_following/followers_1.html": html})
    assert refused(parse_instagram_followers, zip_of_html) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'{"relationships_following": []}',
            "“following.json” is the list of the accounts you follow, not of your followers: choose followers_1.json.",
        ),
        (
            zipped({"your_instagram_activity/likes/liked_posts.json": b"[]"}),
            "The .zip holds no followers_1.json: expected the Instagram export from “Download your information”, "
            "with “Followers and following” in JSON format.",
        ),
        (b"PK\x03\x04 not really a zip", "This .zip file is damaged: download the Instagram export again."),
        (
            b"[1, 2",
            "This is not the list of your Instagram followers: expected followers_1.json from “Download your "
            "information” (in JSON format), or the whole export as a .zip file.",
        ),
        (
            b'{"followers": []}',
            "This is not the list of your Instagram followers: expected followers_1.json from “Download your "
            "information” (in JSON format), or the whole export as a .zip file.",
        ),
    ],
)
def test_files_that_are_not_instagram_followers_are_refused(data, message):
    assert refused(parse_instagram_followers, data) == message


def test_a_zip_member_over_50_mb_uncompressed_is_refused_without_being_inflated():
    # 50 MB of spaces compress to about 50 kB: a small zip bomb.
    bomb = zipped({"connections/followers_and_following/followers_1.json": b"[" + b" " * (50 * MEGABYTE) + b"]"})
    assert len(bomb) < MEGABYTE
    assert refused(parse_instagram_followers, bomb) == (
        "“connections/followers_and_following/followers_1.json” is more than 50 MB once uncompressed: "
        "it cannot be read safely."
    )


def test_a_zip_member_that_lies_about_its_size_is_refused(monkeypatch):
    monkeypatch.setattr(exports, "MAX_BYTES", 1000)
    data = zipped({"followers_1.json": b"[" + b" " * 5000 + b"]"})
    # Declare 10 bytes in both headers: zipfile then stops after 10 bytes and finds a bad CRC.
    data = data.replace((5002).to_bytes(4, "little"), (10).to_bytes(4, "little"))
    assert "damaged" in refused(parse_instagram_followers, data)


# --- LinkedIn ---------------------------------------------------------------


def test_the_english_connections_export_after_its_notes():
    result = parse_linkedin_connections(fixture("Connections.csv"), "Connections.csv")
    # Rows 1-3 are the notes and a blank line, row 4 the header.
    assert result.records[0] == SocialRecord(
        network="linkedin",
        row=5,
        handle="helene-le-goff-4b2a1c9",
        url="https://www.linkedin.com/in/helene-le-goff-4b2a1c9",
        display_name="Hélène Le Goff",
        first_name="Hélène",
        last_name="Le Goff",
        answers={"Company": "Brest Métropole", "Position": "Chargée de mission mobilités"},
        collected_at=datetime.datetime(2024, 10, 12, tzinfo=UTC),
    )
    yannick = result.records[1]
    assert yannick.email == "yannick.morvan@example.com"  # only when the connection allows it
    assert yannick.answers == {"Company": "Morvan, Tanguy & Associés", "Position": "Avocat associé"}
    assert yannick.collected_at == datetime.datetime(2025, 2, 3, tzinfo=UTC)
    erwan = result.records[-1]
    assert (erwan.row, erwan.handle, erwan.answers) == (9, "erwan-le-gall-élu", {})
    assert result.problems == [
        RowProblem(8, "url", "The connection has neither a name nor a profile address: it is skipped.")
    ]


def test_the_french_connections_export():
    result = parse_linkedin_connections(fixture("Connections_fr.csv"), "Connections.csv")
    assert result.problems == []
    assert result.records[0] == SocialRecord(
        network="linkedin",
        row=5,
        handle="gwenaelle-le-bihan",
        url="https://www.linkedin.com/in/gwenaelle-le-bihan",
        display_name="Gwenaëlle Le Bihan",
        first_name="Gwenaëlle",
        last_name="Le Bihan",
        email="gwen.lebihan@example.fr",
        answers={"Entreprise": "Région Bretagne", "Poste": "Cheffe de projet"},
        collected_at=datetime.datetime(2024, 10, 12, tzinfo=UTC),
    )
    assert [(record.display_name, record.collected_at.date()) for record in result.records] == [
        ("Gwenaëlle Le Bihan", datetime.date(2024, 10, 12)),
        ("Anne Quéré", datetime.date(2025, 2, 3)),
        ("Erwan Le Gall", datetime.date(2023, 8, 28)),
        ("Mikaël Abgrall", datetime.date(2022, 12, 1)),
    ]
    assert result.records[-1].url == "https://fr.linkedin.com/in/mabgrall"


def test_linkedin_row_problems():
    data = (
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
        "Anne,Quéré,https://example.com/in/anne,anne@,,,31 Feb 2024\n"
        "Bob,,https://www.linkedin.com/in/bob,,,,2024-10-12\n"
    ).encode()
    result = parse_linkedin_connections(data)
    assert [(record.row, record.url, record.email, record.collected_at) for record in result.records] == [
        (2, "", "", None),
        (3, "https://www.linkedin.com/in/bob", "", datetime.datetime(2024, 10, 12, tzinfo=UTC)),
    ]
    assert result.problems == [
        RowProblem(
            2,
            "url",
            "“https://example.com/in/anne” is not a LinkedIn profile address: the connection is kept without it.",
        ),
        RowProblem(2, "email", "“anne@” is not a valid email address. The row is kept without this email address."),
        RowProblem(
            2, "collected_at", "“31 Feb 2024” is not a date (such as 12 Oct 2024): the connection is kept without it."
        ),
    ]


def test_a_file_that_is_not_a_connections_export_is_refused():
    assert refused(parse_linkedin_connections, b'Notes:\n"Nothing here"\n') == (
        "This is not a LinkedIn connections export: expected Connections.csv from “Get a copy of your data”, "
        "with the columns First Name, Last Name, URL and Connected On."
    )


# --- Whatever the bytes, only ExportError -----------------------------------

CELL = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
HEADERS = [
    "id",
    "created_time",
    "platform",
    "full_name",
    "first_name",
    "email",
    "phone_number",
    "post_code",
    "city",
    "consentement",
    "opt_in_sms",
    "question ?",
]


def _survives(parse, data: bytes) -> None:
    try:
        result = parse(data)
    except ExportError as error:
        assert str(error)
        return
    for record in result.records:
        assert isinstance(record, SocialRecord)
        assert record.collected_at is None or record.collected_at.tzinfo is not None
    for problem in result.problems:
        assert problem.row >= 1 and problem.field and problem.message


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_the_lead_parser_raises_only_export_error_on_any_bytes(data):
    _survives(parse_lead_ads_csv, data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(exclude_categories=["Cs"]), max_size=2000))
def test_the_lead_parser_raises_only_export_error_on_any_text(text):
    _survives(parse_lead_ads_csv, text.encode())


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.lists(st.sampled_from(HEADERS) | CELL, min_size=1, max_size=14),
    rows=st.lists(st.lists(CELL, max_size=16), max_size=8),
    delimiter=st.sampled_from([",", "\t", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_the_lead_parser_raises_only_export_error_on_any_csv(header, rows, delimiter, encoding):
    # Most headers name the columns a lead export needs, so that the rows are read.
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["id", "created_time", "email", *header])
    writer.writerows(rows)
    _survives(parse_lead_ads_csv, buffer.getvalue().encode(encoding))


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_every_parser_raises_only_export_error_on_any_bytes(data):
    for parse in (parse_x_followers, parse_instagram_followers, parse_linkedin_connections):
        _survives(parse, data)
        _survives(parse, b"window.YTD.follower.part0 = " + data)
        _survives(parse, b"PK\x03\x04" + data)
