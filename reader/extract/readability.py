"""readability-lxml's Document driven on our pre-cleaned tree, with Readability.js's current scoring
rules: unlikely/positive/negative patterns and ARIA roles, the top candidate's promotions, and its
rules for the top candidate's siblings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import lxml.html
from readability import Document

from .clean import parse
from .fragment import sanitise
from .title import article_title, drop_title_heading

# Readability.js's current patterns (readability-lxml 0.9 has older, shorter lists).
_UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu"
    r"|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination"
    r"|pager|popup|yom-remote",
    re.I,
)
_MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
_UNLIKELY_ROLES = frozenset({"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"})
_POSITIVE = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.I)
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain"
    r"|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget",
    re.I,
)


class Readability(Document):
    """readability-lxml's Document reading our pre-cleaned tree, and handing back its result as a tree."""

    def __init__(self, html: str, url: str) -> None:
        super().__init__(html, url=None)  # links are resolved in the result only (see get_clean_html)
        self.page_url = url
        self.base_url = url
        self.title_text = ""
        self.result: lxml.html.HtmlElement | None = None
        self._parses = 0
        self.json_ld: list[str] = []

    def _parse(self, input: str) -> lxml.html.HtmlElement:
        # summary() parses again when its ruthless pass finds too little: a fresh tree each time.
        doc, json_ld = parse(input)
        if self._parses == 0:
            self.json_ld = json_ld
        self._parses += 1
        if self._parses == 1:
            self.title_text = article_title(doc, self.json_ld)
            base = doc.find(".//base[@href]")
            if base is not None:
                try:
                    self.base_url = urljoin(self.page_url, base.get("href", "").strip())
                except ValueError:  # "http://[bad": links resolve against the page's URL instead
                    pass
        return doc

    def remove_unlikely_candidates(self) -> None:
        # readability-lxml's own, with Readability.js's current patterns (its list of unlikely
        # classes grew: related, social, banner, breadcrumbs...) and its unlikely ARIA roles.
        # A walk that doesn't go into what it drops (lxml's iter() would, or skip siblings, as the tree changes).
        stack = list(reversed(self.html))
        while stack:
            elem = stack.pop()
            if not isinstance(elem.tag, str):
                continue
            if elem.tag not in ("body", "a") and self._unlikely(elem):
                elem.drop_tree()
            else:
                stack.extend(reversed(elem))

    @staticmethod
    def _unlikely(elem: lxml.html.HtmlElement) -> bool:
        if elem.get("role") in _UNLIKELY_ROLES:
            return True
        features = f"{elem.get('class', '')} {elem.get('id', '')}"
        return bool(
            len(features) >= 2
            and _UNLIKELY.search(features)
            and not _MAYBE_CANDIDATE.search(features)
            and not elem.xpath("ancestor::table | ancestor-or-self::pre | ancestor-or-self::code")
            and not elem.xpath("descendant::main | descendant::article | descendant-or-self::math")
        )

    def select_best_candidate(self, candidates: dict[Any, dict[str, Any]]) -> dict[str, Any] | None:
        best = super().select_best_candidate(candidates)
        if best is None:
            return best
        # Readability.js's promotions, which readability-lxml lacks: an ancestor shared by most of
        # the best candidates (an article split in several blocks), then a parent scoring higher.
        # (Its third, climbing out of only children, loses more than it gains here: measured.)
        top = best["elem"]
        top_score = best["content_score"]
        ranked = sorted(candidates.values(), key=lambda c: c["content_score"], reverse=True)[:5]
        if top_score > 0:
            close = [
                set(c["elem"].iterancestors())
                for c in ranked
                if c["elem"] is not top and c["content_score"] / top_score >= 0.75
            ]
            if len(close) >= 3:
                for parent in top.iterancestors():
                    if parent.tag in ("body", "html"):
                        break
                    if sum(parent in ancestors for ancestors in close) >= 3:
                        top = parent
                        break
        last = candidates[top]["content_score"] if top in candidates else top_score
        threshold = last / 3
        for parent in top.iterancestors():
            if parent.tag in ("body", "html"):
                break
            if parent not in candidates:
                continue
            score = candidates[parent]["content_score"]
            if score < threshold:
                break
            if score > last:
                top = parent
                break
            last = score
        if top is best["elem"]:
            return best
        if top not in candidates:
            candidates[top] = self.score_node(top)
        return candidates[top]

    def get_article(
        self, candidates: dict[Any, dict[str, Any]], best_candidate: dict[str, Any], html_partial: bool = False
    ) -> lxml.html.HtmlElement:
        # readability-lxml's, with two of Readability.js's rules for the top candidate's siblings
        # that it lacks: a sibling <p> is judged by all its text (readability-lxml reads only the
        # text before its first child element, so "<p>He said: <span>...</span></p>" was lost), and
        # a sibling with the top candidate's class gets a bonus.
        threshold = max(10, best_candidate["content_score"] * 0.2)
        output = lxml.html.fragment_fromstring("<div/>")
        best_elem = best_candidate["elem"]
        self.add_heading_preamble(candidates, best_elem, threshold)
        self.merge_article_segments(candidates, best_candidate, threshold)
        parent = best_elem.getparent()
        siblings = list(parent) if parent is not None else [best_elem]
        leads = self.get_editorial_leads(best_elem)
        for lead in reversed(leads):
            best_elem.insert(0, lead)
        best_class = best_elem.get("class") or ""
        for sibling in siblings:
            if sibling in leads:
                continue
            append = sibling is best_elem
            bonus = best_candidate["content_score"] * 0.2 if best_class and sibling.get("class") == best_class else 0
            if sibling in candidates and candidates[sibling]["content_score"] + bonus >= threshold:
                append = True
            elif sibling.tag == "p":
                link_density = self.get_link_density(sibling)
                content = " ".join(sibling.text_content().split())
                if len(content) > 80 and link_density < 0.25:
                    append = True
                elif len(content) <= 80 and link_density == 0 and re.search(r"\.( |$)", content):
                    append = True
            if append:
                output.append(sibling)
        return output

    def sanitize(self, node: lxml.html.HtmlElement, candidates: dict[Any, Any], keep_all_images: bool = False) -> str:
        # Readability.js cleans a block by its class weight alone; readability-lxml adds the block's
        # score as a candidate, which is negative for every list (-3 a <ul>), so a one-item list
        # holding a photo caption or a paragraph went. (Its only other use there is logging.)
        return super().sanitize(node, {}, keep_all_images)

    def class_weight(self, e: lxml.html.HtmlElement) -> int:
        weight = 0
        for feature in (e.get("class"), e.get("id")):
            if feature:
                if _NEGATIVE.search(feature):
                    weight -= 25
                if _POSITIVE.search(feature):
                    weight += 25
        return weight

    def get_clean_html(self) -> str:
        # Called by summary() with the article in self.html: keep the tree (sanitised here, once) and
        # hand summary() its HTML, whose length it checks before trying again less ruthlessly.
        # readability's own clean_attributes() is a regex loop over the whole output, one attribute a
        # pass: quadratic in a tag with many attributes.
        self.result = sanitise(self.html, self.base_url)
        drop_title_heading(self.result, self.title_text)
        return lxml.html.tostring(self.result, encoding="unicode")
