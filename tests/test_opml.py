"""OPML 2.0 round trip through the CLI and a real cache."""

from __future__ import annotations

from pathlib import Path

from reader.opml import OPMLError, parse_opml

SAMPLE = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="Tech">
    <outline text="Networking"><outline type="rss" text="Cloud" xmlUrl="https://blog.example/feed" /></outline>
    <outline type="rss" text="LWN" xmlUrl="https://lwn.example/rss" category="/News,/Linux"/>
  </outline>
  <outline type="rss" text="Loose" xmlUrl="https://loose.example/atom"/>
  <outline type="rss" text="Bad" xmlUrl="file:///etc/passwd"/>
  <outline type="rss" text="Dup" xmlUrl="https://blog.example/feed"/>
</body></opml>"""


def test_parse_folders_and_categories() -> None:
    outlines = {o.url: o for o in parse_opml(SAMPLE)}
    assert set(outlines) == {"https://blog.example/feed", "https://lwn.example/rss", "https://loose.example/atom"}
    assert outlines["https://blog.example/feed"].categories == ["Tech", "Networking"]
    assert outlines["https://lwn.example/rss"].categories == ["Tech", "News", "Linux"]
    assert outlines["https://loose.example/atom"].categories == []


def test_round_trip(cli, tmp_path: Path) -> None:
    source = tmp_path / "in.opml"
    source.write_bytes(SAMPLE)
    result = cli("import", str(source))
    assert result.code == 0 and "imported 3 feeds (3 new)" in result.out
    before = {f["url"]: sorted(f["categories"]) for f in cli("feeds", "--json").json()}

    out = tmp_path / "out.opml"
    assert cli("export", str(out)).code == 0
    exported = {o.url: sorted(o.categories) for o in parse_opml(out.read_bytes())}
    # A feed in two folders is exported in both; importing merges them back.
    assert exported == before

    other = tmp_path / "other"
    again = cli("--data-dir", str(other), "import", str(out))
    assert again.code == 0
    after = {f["url"]: sorted(f["categories"]) for f in cli("--data-dir", str(other), "feeds", "--json").json()}
    assert after == before
    assert cli("export").out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')


def test_bad_opml(cli, tmp_path: Path) -> None:
    for data, fragment in [
        (b"not xml", "not valid OPML"),
        (b"<rss/>", "root element"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><opml><body/></opml>', "entities"),
    ]:
        path = tmp_path / "bad.opml"
        path.write_bytes(data)
        result = cli("import", str(path))
        assert result.code == 1 and fragment in result.err
        try:
            parse_opml(data)
        except OPMLError:
            pass
        else:
            raise AssertionError("expected OPMLError")
    assert cli("import", str(tmp_path / "missing.opml")).code == 1
