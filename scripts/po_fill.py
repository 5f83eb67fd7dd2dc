"""Fill untranslated entries of a .po file from a JSON {msgid: msgstr} file.

Usage: python scripts/po_fill.py locale/fr/LC_MESSAGES/django.po translations.json
Only single-line, non-plural msgids are filled; anything else is listed.
"""

import json
import re
import sys
from pathlib import Path


def main(po_path: str, json_path: str) -> None:
    translations = json.loads(Path(json_path).read_text(encoding="utf-8"))
    text = Path(po_path).read_text(encoding="utf-8")

    def fill(match: re.Match[str]) -> str:
        msgid = match.group(1)
        if msgid in translations:
            return f'msgid "{msgid}"\nmsgstr "{translations[msgid]}"\n'
        print(f"untranslated: {msgid}", file=sys.stderr)
        return match.group(0)

    text = re.sub(r'msgid "(.+)"\nmsgstr ""\n(?=\n|\Z)', fill, text)
    Path(po_path).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
