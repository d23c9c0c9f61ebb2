"""The tour transform of tools/series.py."""

import pytest
import series_js
from series_py import SeriesError

TOUR = """import { registry } from "@web/core/registry";

// a comment with "quotes" and a { brace
registry.category("web_tour.tours").add("t", {
    steps: () => [
        {
            content: "Open, then {check}",
            trigger: ".o_app[data-menu-xmlid='x']",
            run: "click",
        },
        {
            content: `a template, with a comma`,
            trigger: ".o_field input",
            run: "edit bad.test",
        },
        {
            trigger: ".o_row:contains('x')",
        },
        {
            trigger: ".modal .o_field_widget[name=fix_host]:contains('@')",
        },
        { trigger: ".a", run() { return 1; } },
    ],
});
"""


def test_tour_17():
    with pytest.raises(SeriesError, match="only 'key: value' properties"):
        series_js.tour_17(TOUR, "@odoo-module")
    tour = TOUR.replace('{ trigger: ".a", run() { return 1; } },\n', "")
    assert series_js.tour_17(tour, "@odoo-module") == (
        "/** @odoo-module **/\n\n"
        + tour.replace('.add("t", {\n', '.add("t", {\n    test: true,\n')
        .replace('run: "edit bad.test"', 'run: "text bad.test"')
        .replace(
            '        {\n            trigger: ".o_row',
            '        {\n            isCheck: true,\n            trigger: ".o_row',
        )
        .replace(
            '        {\n            trigger: ".modal',
            "        {\n            in_modal: false,\n            isCheck: true,\n"
            '            trigger: ".modal',
        )
    )


def test_tour_17_keeps_a_header_and_names_flectra():
    bare = 'registry.category("web_tour.tours").add("t", { test: true, steps: () => [] });\n'
    source = "/** @odoo-module **/\n" + bare
    assert series_js.tour_17(source, "@odoo-module") == source
    assert series_js.tour_17(bare, "@flectra-module").startswith("/** @flectra-module **/\n\n")


def test_web_urls():
    source = 'registry.category("web_tour.tours").add("t", { url: "/odoo?debug=1", steps: () => [] });'
    assert '"/web?debug=1"' in series_js.tour_17(source, "@odoo-module")
    with pytest.raises(SeriesError, match="no Odoo 17 equivalent"):
        series_js.tour_17(source.replace("/odoo?debug=1", "/odoo/action-x"), "@odoo-module")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("const x = 1;", "no web_tour.tours definition"),
        ('registry.category("web_tour.tours").add("t", { url: "/" });', "no steps"),
        (
            'registry.category("web_tour.tours").add("t", { steps: function () { return []; } });',
            "steps must be",
        ),
        ('registry.category("web_tour.tours").add("t", { steps: () => [ });', "unbalanced"),
        ('registry.category("web_tour.tours").add({ steps: () => [] });', "a name and one object"),
    ],
)
def test_shapes_it_does_not_translate_are_refused(source, message):
    with pytest.raises(SeriesError, match=message):
        series_js.tour_17(source, "@odoo-module")
