"""The composer's live SMS counter (sms-counter.js) counts exactly like gsm.py, and shows it."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import pytest
from playwright.sync_api import expect

import suffrage
from suffrage.texting.gsm import GSM_BASIC, GSM_EXTENSION, sms_length

pytestmark = pytest.mark.e2e

SCRIPT = Path(suffrage.__file__).parent / "static" / "texting" / "sms-counter.js"
ORIGIN = "http://composer.test"

OUTSIDE_GSM = "êçôâîûëïœŒÊ’‘“”«»–—…\u00a0\u202f\t\u0301"
EMOJI = "😀👍🗳️🇫🇷✅❤"
BOUNDARIES = [
    "",
    "a" * 160,
    "a" * 161,
    "a" * 153 * 2,
    "a" * (153 * 2 + 1),
    "€" * 80,
    "€" * 80 + "a",
    "a" * 152 + "€" + "a" * 10,
    "a" * 152 + "€" + "a" * 152,
    "ê" * 70,
    "ê" * 71,
    "ê" * 67 * 2,
    "ê" * (67 * 2 + 1),
    "😀" * 35,
    "😀" * 35 + "a",
    "ê" * 66 + "😀" + "ê" * 10,
    "ê" * 66 + "😀" + "ê" * 66,
    GSM_BASIC + GSM_EXTENSION,  # every GSM character, in both tables
    GSM_BASIC + GSM_EXTENSION + OUTSIDE_GSM + EMOJI,
    "Rendez-vous à la fête du quartier, samedi 10h ! STOP au 36111",
]


def generated_texts(count: int = 300, seed: int = 2027) -> list[str]:
    """Mostly GSM, sometimes a culprit, with lengths around the part boundaries."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        length = rng.choice([rng.randint(0, 40), rng.randint(60, 75), rng.randint(130, 170), rng.randint(150, 480)])
        weights = rng.choice([(1, 0, 0, 0), (20, 1, 0, 0), (40, 2, 1, 0), (40, 2, 0, 1), (10, 1, 2, 2)])
        pools = (GSM_BASIC, GSM_EXTENSION, OUTSIDE_GSM, EMOJI)
        texts.append("".join(rng.choice(rng.choices(pools, weights)[0]) for _ in range(length)))
    return texts


@pytest.fixture
def blank(page):
    page.goto("about:blank")
    page.add_script_tag(path=str(SCRIPT))
    return page


def test_the_browser_counts_like_the_server(blank):
    texts = BOUNDARIES + generated_texts()
    in_browser = blank.evaluate("texts => texts.map(window.suffrageSmsLength)", texts)
    in_python = [{**asdict(sms_length(text)), "culprits": list(sms_length(text).culprits)} for text in texts]
    mismatches = [(text, js, py) for text, js, py in zip(texts, in_browser, in_python, strict=True) if js != py]
    assert mismatches == []
    # The sample does reach both encodings and several part counts.
    assert {length["encoding"] for length in in_python} == {"GSM-7", "UCS-2"}
    assert {length["parts"] for length in in_python} >= {0, 1, 2, 3}


COMPOSER = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><script src="/sms-counter.js"></script></head>
<body>
  <textarea id="body" data-sms-counter="body-count" data-sms-suffix=" STOP au 36111"
            data-sms-price="0,045" data-sms-recipients="1200"></textarea>
  <output id="body-count"
          data-label-gsm="{chars} caractères"
          data-label-ucs2="{chars} caractères (Unicode)"
          data-label-parts="{parts} SMS de {per_part} au plus, reste {remaining}"
          data-label-warning="Ces caractères rendent chaque SMS plus court : {culprits}"
          data-label-cost="Coût estimé : {cost} €"></output>
</body></html>"""


def serve_composer(page):
    """The page and the script from an origin of their own, loaded the normal way (DOMContentLoaded)."""
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=COMPOSER, content_type="text/html; charset=utf-8"))
    page.route(
        f"{ORIGIN}/sms-counter.js",
        lambda route: route.fulfill(body=SCRIPT.read_text(), content_type="text/javascript; charset=utf-8"),
    )
    page.goto(f"{ORIGIN}/")


def test_the_counter_follows_what_is_typed(page):
    serve_composer(page)
    output = page.locator("#body-count")
    # Empty, the suffix alone is counted: " STOP au 36111" is 14 septets.
    expect(output.locator("[data-sms=count]")).to_have_text("14 caractères")
    expect(output).to_have_attribute("data-encoding", "GSM-7")

    page.locator("#body").press_sequentially("Votez dimanche [bureau 12] !")
    expect(output.locator("[data-sms=count]")).to_have_text("44 caractères")  # 28 + 2 brackets + 14
    expect(output.locator("[data-sms=parts]")).to_have_text("1 SMS de 160 au plus, reste 116")
    expect(output.locator("[data-sms=warning]")).to_have_count(0)
    expect(output.locator("[data-sms=cost]")).to_have_text("Coût estimé : 54,00 €")

    page.locator("#body").press_sequentially(" C’est la fête\u202f!")
    expect(output).to_have_attribute("data-encoding", "UCS-2")
    expect(output.locator("[data-sms=count]")).to_have_text("58 caractères (Unicode)")
    expect(output.locator("[data-sms=warning]")).to_have_text(
        "Ces caractères rendent chaque SMS plus court : ê ’ U+202F"
    )

    page.locator("#body").fill("a" * 150)
    expect(output).to_have_attribute("data-encoding", "GSM-7")
    expect(output.locator("[data-sms=parts]")).to_have_text("2 SMS de 153 au plus, reste 142")
    expect(output.locator("[data-sms=cost]")).to_have_text("Coût estimé : 108,00 €")
