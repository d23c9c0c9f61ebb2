"""The data file transforms of tools/series.py, on small files written here."""

import pytest
import series
import series_xml
from lxml import etree
from series_py import SeriesError

ACTIVITIES = {"x.thread": False, "x.activity": True}


def view(arch: str, model: str = "x.activity", inherit: bool = False) -> bytes:
    inherit_field = '<field name="inherit_id" ref="base.view"/>' if inherit else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<odoo>\n    <record id="v" model="ir.ui.view">\n'
        f'        <field name="model">{model}</field>{inherit_field}\n'
        f'        <field name="arch" type="xml">\n{arch}\n        </field>\n    </record>\n</odoo>\n'
    ).encode()


def build(data: bytes, name: str) -> etree._Element:
    return etree.fromstring(series.transform_xml(data, series.SERIES[name], ACTIVITIES))


def test_18_is_written_as_it_is():
    data = view("<list><field name='a'/></list>")
    assert series.transform_xml(data, series.SERIES["18.0"], ACTIVITIES) is data


def test_a_file_no_transform_changes_keeps_its_bytes():
    data = view('<form><field name="a"\n      string="A"/></form>')
    assert series.transform_xml(data, series.SERIES["19.0"], ACTIVITIES) == data


def test_17_list_is_tree_everywhere_a_view_is_named():
    data = (
        view(
            '<form><field name="a"/><field name="line_ids" mode="list,kanban">'
            '<list><field name="b"/></list></field></form>'
        )
        + b""
    )
    root = build(data, "17.0")
    assert [element.tag for element in root.iter("list", "tree")] == ["tree"]
    assert root.find(".//field[@name='line_ids']").get("mode") == "tree,kanban"
    action = (
        b'<odoo><record id="a" model="ir.actions.act_window"><field name="view_mode">list,form</field>'
        b'<field name="path">things</field></record></odoo>'
    )
    root = build(action, "17.0")
    assert root.find(".//field[@name='view_mode']").text == "tree,form"
    assert root.find(".//field[@name='path']") is None


def test_17_refuses_an_xpath_on_a_list_rather_than_guess():
    with pytest.raises(SeriesError, match="names a list view"):
        build(
            view('<xpath expr="//list/field[1]" position="after"><field name="a"/></xpath>', inherit=True),
            "17.0",
        )


def test_17_chatter_has_the_fields_of_the_model():
    root = build(view('<form><sheet><field name="a"/></sheet><chatter/></form>', "x.activity"), "17.0")
    chatter = root.find(".//div[@class='oe_chatter']")
    assert [field.get("name") for field in chatter] == ["message_follower_ids", "activity_ids", "message_ids"]
    root = build(view('<form><sheet><field name="a"/></sheet><chatter/></form>', "x.thread"), "17.0")
    assert [field.get("name") for field in root.find(".//div[@class='oe_chatter']")] == [
        "message_follower_ids",
        "message_ids",
    ]
    with pytest.raises(SeriesError, match="not a mail.thread model"):
        build(view("<form><chatter/></form>", "res.partner"), "17.0")


def test_17_aggregator_cron_and_view_ref():
    root = build(view('<list><field name="rate" aggregator="avg"/></list>'), "17.0")
    assert root.find(".//field[@name='rate']").attrib == {"name": "rate", "group_operator": "avg"}
    cron = b'<odoo noupdate="1"><record id="c" model="ir.cron"><field name="name">C</field></record></odoo>'
    assert build(cron, "17.0").find(".//field[@name='numbercall']").text == "-1"
    root = build(
        view("""<form><field name="ids" context="{'list_view_ref': 'm.v', 'x': 'list_view_ref'}"/></form>"""),
        "17.0",
    )
    assert (
        root.find(".//field[@name='ids']").get("context") == "{'tree_view_ref': 'm.v', 'x': 'list_view_ref'}"
    )


def test_17_fields_read_by_expressions_are_added_to_the_view_that_reads_them():
    arch = """
<form>
    <header><button name="go" invisible="state != 'new'"/></header>
    <sheet>
        <group><field name="a" readonly="locked or parent.x"/></group>
        <notebook><page string="P" invisible="not show_page"><field name="b"/></page></notebook>
        <field name="line_ids">
            <list decoration-danger="late">
                <field name="c" column_invisible="not parent.a" invisible="not d"/>
            </list>
        </field>
        <field name="state"/>
    </sheet>
</form>"""
    root = build(view(arch), "17.0")
    form = root.find(".//form")
    hidden = {field.get("name"): field for field in form.iter("field") if field.get("invisible") == "1"}
    assert set(hidden) == {"locked", "show_page"}  # state is in the form already; parent.x is the parent's
    assert hidden["show_page"].getparent().tag == "page"  # a notebook holds pages only
    assert hidden["locked"].getnext().get("name") == "a"
    sublist = form.find(".//tree")
    assert {field.get("name") for field in sublist if field.get("column_invisible") == "1"} == {"late", "d"}
    # the x2many's own fields are not the form's
    assert "d" not in {field.get("name") for field in form.iterchildren("field")}


def test_17_inherited_views_get_the_fields_inside_the_part_they_add():
    arch = """<data>
    <xpath expr="//sheet" position="inside">
        <group invisible="not applicable"><field name="x"/></group>
    </xpath>
    <field name="y" position="after"><field name="z" invisible="not id"/></field>
</data>"""
    root = build(view(arch, inherit=True), "17.0")
    xpath = root.find(".//xpath")
    assert [child.get("name") for child in xpath if child.tag == "field"] == ["applicable"]
    assert len(root.find(".//field[@position]")) == 1  # id needs no field


def test_19_search_groups_lose_expand_and_string():
    arch = (
        '<search><field name="a"/>'
        '<group expand="0" string="Group By"><filter name="g" context="{}"/></group></search>'
    )
    root = build(view(arch), "19.0")
    assert root.find(".//group").attrib == {}
    assert build(view(arch), "17.0").find(".//group").get("expand") == "0"


def test_flectra_root_and_17_rules():
    root = build(view("<list><field name='a'/></list>"), "flectra-3.0")
    assert root.tag == "flectra"
    assert root.find(".//tree") is not None


def test_layout_is_kept_around_what_changes():
    data = view(
        "            <form>\n                <sheet/>\n                <chatter/>\n            </form>",
        "x.thread",
    )
    text = series.transform_xml(data, series.SERIES["17.0"], ACTIVITIES).decode()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<odoo>\n')
    assert (
        '                <sheet/>\n                <div class="oe_chatter">\n'
        '                    <field name="message_follower_ids"/>\n'
        '                    <field name="message_ids"/>\n                </div>\n            </form>'
    ) in text


def test_expression_fields():
    assert series_xml.expression_fields("not a or (b and parent.c) or context.get('d') or id") == {"a", "b"}
    with pytest.raises(SeriesError, match="not a Python expression"):
        series_xml.expression_fields("a ==")
