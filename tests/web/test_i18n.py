"""Every message the code and templates can show has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from web import i18n

ROOT = Path(__file__).resolve().parents[2]


def extracted_ids() -> set[str]:
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)  # type: ignore[no-untyped-call]  # Babel leaves it unannotated
    keywords = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_chinese_translation() -> None:
    ids = extracted_ids()
    assert len(ids) > 30
    zh = i18n.translations("zh_Hans")
    untranslated = sorted(m for m in ids if zh.gettext(m) == m)
    assert untranslated == [], "run scripts/i18n and translate: " + "; ".join(untranslated)


def test_translations_keep_their_placeholders() -> None:
    import re

    zh = i18n.translations("zh_Hans")
    for message in extracted_ids():
        assert set(re.findall(r"\{\w+\}", zh.gettext(message))) == set(
            re.findall(r"\{\w+\}", message)
        ), message
