"""JavaScript transforms of tools/series.py for web tours: the source is tokenized (strings, template
literals, comments, punctuation), the tour definition ``registry.category("web_tour.tours").add(NAME,
{...})`` and its steps are located as object literals, and only their properties are edited."""

import re
from dataclasses import dataclass

from series_py import SeriesError

TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>//[^\n]*|/\*.*?\*/)
      | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)
      | (?P<name>[A-Za-z_$][\w$]*)
      | (?P<number>\d[\w.]*)
      | (?P<punct>=>|\.\.\.|[{}()\[\],:;.=<>!+\-*/%&|?^~@])""",
    re.VERBOSE | re.DOTALL,
)
OPENING = {"{": "}", "(": ")", "[": "]"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokenize(source: str) -> list[Token]:
    """The significant tokens of ``source`` (no spaces or comments)."""
    tokens, at = [], 0
    while at < len(source):
        match = TOKEN.match(source, at)
        if not match:
            raise SeriesError(f"cannot read the JavaScript at offset {at}: {source[at : at + 20]!r}")
        if match.lastgroup not in ("space", "comment"):
            tokens.append(Token(match.lastgroup, match.group(), match.start(), match.end()))
        at = match.end()
    return tokens


def _closing(tokens: list[Token], index: int) -> int:
    """Index of the bracket closing the one at ``index``."""
    depth = []
    for at in range(index, len(tokens)):
        text = tokens[at].text
        if tokens[at].kind != "punct":
            continue
        if text in OPENING:
            depth.append(OPENING[text])
        elif text in ")]}":
            if not depth or depth.pop() != text:
                raise SeriesError(f"unbalanced {text!r} at offset {tokens[at].start}")
            if not depth:
                return at
    raise SeriesError(f"unclosed {tokens[index].text!r} at offset {tokens[index].start}")


def _items(tokens: list[Token], opening: int) -> list[tuple[int, int]]:
    """(first, last) token indexes of each comma-separated item between the bracket at ``opening``
    and its closing one."""
    close, items, first, at = _closing(tokens, opening), [], opening + 1, opening + 1
    while at < close:
        if tokens[at].kind == "punct" and tokens[at].text in OPENING:
            at = _closing(tokens, at) + 1
            continue
        if tokens[at].kind == "punct" and tokens[at].text == ",":
            items.append((first, at - 1))
            first = at + 1
        at += 1
    if first < close:
        items.append((first, close - 1))
    return items


@dataclass
class ObjectLiteral:
    """An object literal: where it opens and its ``key: value`` properties (value token ranges)."""

    opening: int
    properties: dict[str, tuple[int, int]]


def object_literal(tokens: list[Token], opening: int) -> ObjectLiteral:
    if tokens[opening].text != "{":
        raise SeriesError(f"expected an object literal at offset {tokens[opening].start}")
    properties = {}
    for first, last in _items(tokens, opening):
        key, colon = tokens[first], tokens[first + 1] if first + 1 <= last else None
        if key.kind not in ("name", "string") or colon is None or colon.text != ":":
            raise SeriesError(f"only 'key: value' properties are translated (offset {key.start})")
        properties[key.text.strip("'\"")] = (first + 2, last)
    return ObjectLiteral(opening, properties)


def string_value(tokens: list[Token], span: tuple[int, int]) -> str | None:
    """The value of a property that is one plain string literal, else None."""
    first, last = span
    if first == last and tokens[first].kind == "string" and tokens[first].text[0] in "'\"":
        return tokens[first].text[1:-1]
    return None


def tours(tokens: list[Token]) -> list[ObjectLiteral]:
    """The tour objects: the second argument of each ``.category("web_tour.tours").add(...)``."""
    found = []
    for at in range(len(tokens) - 6):
        window = [token.text for token in tokens[at : at + 7]]
        if window[:5] == ["category", "(", '"web_tour.tours"', ")", "."] and window[5:] == ["add", "("]:
            arguments = _items(tokens, at + 6)
            if len(arguments) != 2:
                raise SeriesError("a tour is added with a name and one object")
            found.append(object_literal(tokens, arguments[1][0]))
    return found


def steps(tokens: list[Token], tour: ObjectLiteral) -> list[ObjectLiteral]:
    """The step objects of ``steps: () => [...]``."""
    if "steps" not in tour.properties:
        raise SeriesError("the tour has no steps")
    first, last = tour.properties["steps"]
    texts = [token.text for token in tokens[first : first + 4]]
    if texts != ["(", ")", "=>", "["]:
        raise SeriesError("steps must be written 'steps: () => [...]'")
    return [object_literal(tokens, item_first) for item_first, _ in _items(tokens, first + 3)]


class Edits:
    """Text edits at token positions, applied at once."""

    def __init__(self, source: str, tokens: list[Token]):
        self.source, self.tokens, self.edits = source, tokens, []

    def replace(self, index: int, text: str):
        token = self.tokens[index]
        self.edits.append((token.start, token.end, text))

    def add_property(self, literal: ObjectLiteral, text: str):
        """Insert ``text`` (``key: value``) as the first property, on its own line, indented as the
        first property is."""
        opening = self.tokens[literal.opening]
        first = self.tokens[literal.opening + 1]
        line_start = self.source.rfind("\n", 0, first.start) + 1
        indent = self.source[line_start : first.start]
        if indent.strip():  # properties on the opening line
            indent = " "
        self.edits.append((opening.end, opening.end, f"\n{indent}{text},"))

    def apply(self) -> str:
        source = self.source
        for start, end, text in sorted(self.edits, reverse=True):
            source = source[:start] + text + source[end:]
        return source


def web_urls(edits: Edits):
    """``/odoo`` (the web client's URL from Odoo 18) as ``/web`` in string literals."""
    for index, token in enumerate(edits.tokens):
        if token.kind != "string" or token.text[0] not in "'\"":
            continue
        value = token.text[1:-1]
        if value == "/odoo" or value.startswith(("/odoo?", "/odoo#")):
            edits.replace(index, token.text[0] + "/web" + value[len("/odoo") :] + token.text[0])
        elif value.startswith("/odoo/"):
            raise SeriesError(f"{value!r}: an Odoo 18 path URL has no Odoo 17 equivalent here; use /odoo?...")


def tour_17(source: str, header: str) -> str:
    """An Odoo 18 tour as Odoo 17 runs it: a module header, ``test: true``, steps without ``run``
    marked ``isCheck`` (17 clicks them otherwise), ``edit`` as ``text``, and steps aimed at a dialog
    by a ``.modal`` selector searched in the whole page (17 searches only inside the open dialog)."""
    tokens = tokenize(source)
    edits = Edits(source, tokens)
    found = tours(tokens)
    if not found:
        raise SeriesError("no web_tour.tours definition found")
    for tour in found:
        if "test" not in tour.properties:
            edits.add_property(tour, "test: true")
        for step in steps(tokens, tour):
            run = step.properties.get("run")
            if run is None:
                edits.add_property(step, "isCheck: true")
            else:
                action = string_value(tokens, run)
                if action is not None and (action == "edit" or action.startswith("edit ")):
                    quote = tokens[run[0]].text[0]
                    edits.replace(run[0], quote + "text" + action[len("edit") :] + quote)
            trigger = step.properties.get("trigger")
            selector = string_value(tokens, trigger) if trigger else None
            if selector and selector.startswith(".modal ") and "in_modal" not in step.properties:
                edits.add_property(step, "in_modal: false")
    web_urls(edits)
    return module_header(edits.apply(), header)


def module_header(source: str, header: str) -> str:
    """``source`` starting with the module annotation ``header`` (e.g. ``@odoo-module``)."""
    if re.match(r"\s*/\*\*?\s*@(odoo|flectra)-module", source):
        return source
    return f"/** {header} **/\n\n{source}"
