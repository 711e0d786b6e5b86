"""`tel_links`: a practice's crisis text shown to clients, its phone numbers tap-to-call links.
The text is written by a practice's administrator: it is escaped, never trusted as HTML."""

from __future__ import annotations

from rapport.core.templatetags.phone import tel_links


def test_numbers_become_links_and_the_rest_stays_text():
    html = tel_links("Call 999, or the duty line on +44 (0)20 7946 0000.\nText SHOUT to 85258.")
    assert html == (
        '<p>Call <a href="tel:999" class="tel">999</a>, or the duty line on '
        '<a href="tel:+442079460000" class="tel">+44 (0)20 7946 0000</a>.<br>'
        'Text SHOUT to <a href="tel:85258" class="tel">85258</a>.</p>'
    )


def test_markup_in_the_text_is_escaped():
    html = tel_links('<script>alert(1)</script> <a href="javascript:x">112</a> & "quotes"')
    assert "<script>" not in html and 'href="javascript' not in html
    assert html.startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;a href=&quot;")
    assert '<a href="tel:112" class="tel">112</a>&lt;/a&gt; &amp; &quot;quotes&quot;</p>' in html


def test_paragraphs_and_lines():
    html = tel_links("First 111\n\n\n  second\nthird  \n")
    assert html == ('<p>First <a href="tel:111" class="tel">111</a></p>\n'
                    "<p>second<br>third</p>")


def test_two_numbers_on_two_lines_are_two_links():
    # Each line is read alone: a number never runs on across a line break into the next one.
    html = tel_links("Emergency 999\n112 from a mobile")
    assert html == ('<p>Emergency <a href="tel:999" class="tel">999</a><br>'
                    '<a href="tel:112" class="tel">112</a> from a mobile</p>')


def test_too_short_and_embedded_digits_stay_text():
    assert tel_links("room 12, code a/123, ref x123") == "<p>room 12, code a/123, ref x123</p>"
    assert tel_links("") == "" and tel_links(None) == ""
