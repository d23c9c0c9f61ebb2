"""XML transforms of tools/series.py: data files (views, actions, crons) parsed with lxml, edited
element by element, written back with their comments and layout."""

import ast

from lxml import etree
from series_py import SeriesError

# Names a view expression may use that are not fields of the record (Odoo 17's view_validation).
NOT_FIELDS = {
    "True", "False", "None", "self", "uid", "context", "context_today", "allowed_company_ids",
    "current_company_id", "time", "datetime", "relativedelta", "current_date", "today", "now", "abs",
    "len", "bool", "float", "str", "unicode", "set", "id", "parent", "active_id", "active_ids",
    "active_model",
}  # fmt: skip
# Attributes whose expression reads fields of the record (Odoo 17 requires those in the view).
EXPRESSION_ATTRIBUTES = ("invisible", "readonly", "required", "column_invisible", "context", "domain")
SUBVIEWS = ("list", "tree", "form", "kanban")


def parse(data: bytes) -> etree._ElementTree:
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, strip_cdata=False)
    return etree.ElementTree(etree.fromstring(data, parser))


def serialize(tree: etree._ElementTree, original: bytes) -> bytes:
    declaration = original.lstrip().startswith(b"<?xml")
    text = etree.tostring(tree, encoding="utf-8", xml_declaration=False)
    head = b'<?xml version="1.0" encoding="utf-8"?>\n' if declaration else b""
    return head + text + b"\n"


def records(root, model):
    return [record for record in root.iter("record") if record.get("model") == model]


def record_field(record, name):
    return next((field for field in record.findall("field") if field.get("name") == name), None)


def arches(root):
    """(model, element, inherits?) of every view in the file: the arch's root, or each part an
    inherited view adds (an ``xpath`` or other position spec)."""
    found = []
    for record in records(root, "ir.ui.view"):
        arch, model = record_field(record, "arch"), record_field(record, "model")
        if arch is None:
            continue
        inherits = record_field(record, "inherit_id") is not None
        elements = [child for child in arch if isinstance(child.tag, str)]
        if len(elements) != 1 and not inherits:
            raise SeriesError(f"view {record.get('id')}: the arch must hold one element")
        model_name = (model.text or "").strip() if model is not None else ""
        found.extend((model_name, element, inherits) for element in elements)
    return found


def remove(element):
    """Remove ``element``, keeping the layout of what follows it."""
    parent, previous = element.getparent(), element.getprevious()
    if previous is not None:
        previous.tail = element.tail
    else:
        parent.text = element.tail
    parent.remove(element)


def insert_before(anchor, element):
    """Put ``element`` before ``anchor`` with the indentation ``anchor`` has."""
    previous = anchor.getprevious()
    indent = (previous.tail if previous is not None else anchor.getparent().text) or "\n"
    element.tail = indent
    anchor.addprevious(element)


def append(parent, element):
    """Put ``element`` last inside ``parent``, indented as its other children."""
    children = [child for child in parent]
    if children:
        last = children[-1]
        element.tail = last.tail
        last.tail = (children[-2].tail if len(children) > 1 else parent.text) or "\n"
    else:
        element.tail = parent.tail
        parent.text = "\n"
    parent.append(element)


# --- Odoo 17 ---------------------------------------------------------------------------------------


def list_to_tree(root):
    """Odoo 17 calls the list view ``tree``: the arch element, ``view_mode`` of actions and action
    views, and the ``mode`` of x2many fields."""
    for _model, arch, _inherits in arches(root):
        for element in arch.iter("list"):
            element.tag = "tree"
        for element in arch.iter():
            if isinstance(element.tag, str) and element.tag == "xpath" and "list" in element.get("expr", ""):
                raise SeriesError(
                    f"xpath {element.get('expr')!r} names a list view; not translated for Odoo 17"
                )
            if element.tag == "field" and element.get("mode"):
                element.set("mode", _modes(element.get("mode")))
    for model in ("ir.actions.act_window", "ir.actions.act_window.view"):
        for record in records(root, model):
            mode = record_field(record, "view_mode")
            if mode is not None and mode.text:
                mode.text = _modes(mode.text)


def view_ref_context(root):
    """Odoo 17 reads ``tree_view_ref`` where 18 reads ``list_view_ref`` (an x2many's list view)."""
    for _model, arch, _inherits in arches(root):
        for element in arch.iter():
            if isinstance(element.tag, str) and element.get("context"):
                element.set(
                    "context", rename_dict_key(element.get("context"), "list_view_ref", "tree_view_ref")
                )


def rename_dict_key(expression: str, old: str, new: str) -> str:
    """``expression`` (a dict literal) with its string key ``old`` renamed ``new``."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise SeriesError(f"not a Python expression: {expression!r}") from error
    starts = _line_starts(expression)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value == old:
                    start = starts[key.lineno] + key.col_offset
                    end = starts[key.end_lineno] + key.end_col_offset
                    quote = expression[start]
                    edits.append((start, end, f"{quote}{new}{quote}"))
    for start, end, text in sorted(edits, reverse=True):
        expression = expression[:start] + text + expression[end:]
    return expression


def _line_starts(text: str) -> list[int]:
    starts = [0, 0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _modes(text: str) -> str:
    return ",".join("tree" if mode.strip() == "list" else mode.strip() for mode in text.split(","))


def chatter(root, activity_models):
    """Odoo 17 has no ``<chatter/>``: its fields in a ``div.oe_chatter`` (activities only on models
    with them)."""
    for model, arch, _inherits in arches(root):
        for element in list(arch.iter("chatter")):
            if element.attrib:
                raise SeriesError(f"<chatter/> of {model} has attributes; not translated for Odoo 17")
            if model not in activity_models:
                raise SeriesError(f"<chatter/> on {model}: not a mail.thread model of this addon")
            div = etree.Element("div", {"class": "oe_chatter"})
            names = ["message_follower_ids"]
            if activity_models[model]:
                names.append("activity_ids")
            names.append("message_ids")
            previous = element.getprevious()
            indent = (previous.tail if previous is not None else element.getparent().text) or ""
            inner = indent + "    " if indent else ""
            div.text = inner
            for index, name in enumerate(names):
                field = etree.SubElement(div, "field", {"name": name})
                field.tail = inner if index < len(names) - 1 else indent
            div.tail = element.tail
            element.getparent().replace(element, div)


def aggregator(root):
    """Odoo 17 calls ``aggregator`` ``group_operator``."""
    for _model, arch, _inherits in arches(root):
        for element in arch.iter("field"):
            if "aggregator" in element.attrib:
                element.set("group_operator", element.attrib.pop("aggregator"))


def action_path(root):
    """``ir.actions.act_window`` has no ``path`` before Odoo 18."""
    for record in records(root, "ir.actions.act_window"):
        path = record_field(record, "path")
        if path is not None:
            remove(path)


def cron_numbercall(root):
    """Odoo 17 runs a cron ``numbercall`` times, once by default: 18's crons repeat forever (-1)."""
    for record in records(root, "ir.cron"):
        if record_field(record, "numbercall") is None:
            field = etree.Element("field", {"name": "numbercall"})
            field.text = "-1"
            append(record, field)


def expression_fields(expression: str) -> set[str]:
    """The record's fields an expression reads (``parent.x`` and context names aside)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise SeriesError(f"not a Python expression: {expression!r}") from error
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - NOT_FIELDS


def _scope(element, arch):
    """The (sub)view whose record ``element`` is about: an x2many's own list/form/kanban, or the arch."""
    for node in (element, *element.iterancestors()):
        if node is arch or node.tag in SUBVIEWS and node.getparent().tag == "field":
            return node
    return arch


def _is_field(element) -> bool:
    """A field of the view, not an inheritance spec (``<field name=... position=...>``)."""
    return element.tag == "field" and "position" not in element.attrib


def _uses(element) -> set[str]:
    names = set()
    for attribute, value in element.attrib.items():
        if attribute in EXPRESSION_ATTRIBUTES or attribute.startswith("decoration-"):
            names |= expression_fields(value)
    return names


def modifier_fields(root):
    """Odoo 17 refuses a view whose expressions (``invisible``, ``readonly``, ``required``,
    ``column_invisible``, ``context``, ``domain``, ``decoration-*``) read a field the (sub)view does
    not hold; 18 adds such fields itself. Each missing one is added, invisible, beside its first use
    (in an inherited view, inside the part it adds)."""
    for _model, arch, _inherits in arches(root):
        if arch.tag == "search":
            continue
        present: dict = {}
        for element in arch.iter("field"):
            if _is_field(element):
                present.setdefault(_scope(element, arch), set()).add(element.get("name"))
        for element in list(arch.iter()):
            if not isinstance(element.tag, str) or element.tag == "attribute":
                continue
            scope = _scope(element, arch)
            held = present.setdefault(scope, set())
            for name in sorted(_uses(element) - held):
                _add_hidden_field(element, scope, name)
                held.add(name)


def _add_hidden_field(user, scope, name):
    in_list = scope.tag in ("list", "tree")
    field = etree.Element("field", {"name": name, ("column_invisible" if in_list else "invisible"): "1"})
    if user is scope or in_list and user.getparent() is not scope:
        append(scope, field)
    elif user.getparent().tag == "notebook":  # a page: the field goes inside it
        field.tail = user.text
        user.insert(0, field)
    else:
        insert_before(user, field)


# --- Odoo 19 ---------------------------------------------------------------------------------------


def search_group_attributes(root):
    """Odoo 19's search view schema has no ``expand`` or ``string`` on ``<group>``."""
    for _model, arch, _inherits in arches(root):
        if arch.tag != "search":
            continue
        for group in arch.iter("group"):
            for attribute in ("expand", "string"):
                group.attrib.pop(attribute, None)


# --- Flectra ---------------------------------------------------------------------------------------


def flectra_root(root):
    """Flectra's data files have ``<flectra>`` where Odoo's have ``<odoo>``."""
    if root.tag == "odoo":
        root.tag = "flectra"
