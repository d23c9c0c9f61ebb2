"""Python source transforms of tools/series.py: each edits the exact spans that ``ast`` and
``tokenize`` locate, and the result is parsed again before it is written."""

import ast
import io
import tokenize

# What a Flectra build calls the framework package the source imports as ``odoo``.
ODOO = "odoo"


class SeriesError(Exception):
    """The source holds something a transform cannot carry over safely; the message says what."""


def _offsets(source: str) -> list[int]:
    """Offset in ``source`` of the start of each line (1-based line numbers index it)."""
    starts = [0, 0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _splice(source: str, edits: list[tuple[int, int, str]]) -> str:
    """``source`` with each (start, end, text) span replaced; spans must not overlap."""
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _span(starts: list[int], node: ast.AST) -> tuple[int, int]:
    return (
        starts[node.lineno] + node.col_offset,
        starts[node.end_lineno] + node.end_col_offset,
    )


def set_constant(source: str, name: str, value: object) -> str:
    """``source`` with the module-level ``NAME = ...`` assignment's value replaced by ``value``'s repr.
    Exactly one such assignment must exist."""
    tree = ast.parse(source)
    targets = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == name
    ]
    if len(targets) != 1:
        raise SeriesError(f"expected one module-level assignment of {name}, found {len(targets)}")
    start, end = _span(_offsets(source), targets[0].value)
    return _checked(_splice(source, [(start, end, repr(value))]))


def manifest_dict(source: str) -> ast.Dict:
    tree = ast.parse(source)
    if (
        len(tree.body) != 1
        or not isinstance(tree.body[0], ast.Expr)
        or not isinstance(tree.body[0].value, ast.Dict)
    ):
        raise SeriesError("__manifest__.py must be one dict literal")
    return tree.body[0].value


def set_manifest_version(source: str, version: str) -> str:
    """The manifest with its ``version`` value replaced by ``version``."""
    manifest = manifest_dict(source)
    for key, value in zip(manifest.keys, manifest.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == "version":
            if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
                raise SeriesError("the manifest version must be a string literal")
            start, end = _span(_offsets(source), value)
            return _checked(_splice(source, [(start, end, repr(version).replace("'", '"'))]))
    raise SeriesError("the manifest has no version")


def rename_keyword(source: str, old: str, new: str) -> str:
    """``source`` with the keyword argument ``old=`` of every ``fields.X(...)`` call named ``new``
    (Odoo 18's ``aggregator`` is 17's ``group_operator``)."""
    starts = _offsets(source)
    edits = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "fields"
        ):
            for keyword in node.keywords:
                if keyword.arg == old:
                    start = starts[keyword.lineno] + keyword.col_offset
                    edits.append((start, start + len(old), new))
    return _checked(_splice(source, edits)) if edits else source


def _is_module_path(text: str, package: str) -> bool:
    """Whether ``text`` is a dotted module path inside ``package`` (``odoo.addons.mail...``), as
    ``mock.patch`` targets and logger names are; the bare word is a value (a provider's name)."""
    parts = text.split(".")
    return len(parts) > 1 and parts[0] == package and all(part.isidentifier() for part in parts)


def rename_package(source: str, old: str = ODOO, new: str = "flectra") -> str:
    """``source`` with the framework package renamed: in imports, in names bound by ``import old``,
    and in string literals that are exactly a dotted path inside it. Any other use of the name
    (assigned, a parameter, an attribute) is refused rather than guessed."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == old and not isinstance(node.ctx, ast.Load):
            raise SeriesError(f"line {node.lineno}: '{old}' is assigned; rename it")
        if isinstance(node, ast.arg) and node.arg == old:
            raise SeriesError(f"line {node.lineno}: '{old}' is a parameter; rename it")
        if isinstance(node, ast.alias) and node.asname == old:
            raise SeriesError(f"line {node.lineno}: something is imported as '{old}'; rename it")
    import_lines = set()
    for node in _import_roots_of(tree, old):
        import_lines.update(range(node.lineno, node.end_lineno + 1))
    starts = _offsets(source)
    edits = []
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        start = starts[token.start[0]] + token.start[1]
        if token.type == tokenize.NAME and token.string == old:
            after_dot = previous is not None and previous.type == tokenize.OP and previous.string == "."
            in_import = token.start[0] in import_lines
            if not after_dot or in_import:
                edits.append((start, start + len(old), new))
        elif token.type == tokenize.STRING:
            value = ast.literal_eval(token.string) if token.string[:1] in "'\"" else None
            if isinstance(value, str) and _is_module_path(value, old):
                quote_at = token.string.index(value[0])
                edits.append((start + quote_at, start + quote_at + len(old), new))
        if token.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.COMMENT,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            previous = token
    result = _checked(_splice(source, edits))
    leftover = foreign_references(result, old)
    if leftover:
        raise SeriesError(f"'{old}' is still referenced after renaming: {', '.join(leftover)}")
    return result


def foreign_references(source: str, package: str) -> list[str]:
    """Where ``source`` refers to ``package``: imports, loaded names and dotted-path strings
    (``line N: ...``)."""
    tree = ast.parse(source)
    found = []
    for node in _import_roots_of(tree, package):
        found.append(f"line {node.lineno}: import of {package}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == package:
            found.append(f"line {node.lineno}: name {package}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _is_module_path(node.value, package)
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def _import_roots_of(tree: ast.AST, package: str) -> list[ast.AST]:
    """The import statements that name ``package`` or a module inside it."""
    nodes = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name == package or alias.name.startswith(package + ".") for alias in node.names
        ):
            nodes.append(node)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == package or node.module.startswith(package + "."):
                nodes.append(node)
    return nodes


def _checked(source: str) -> str:
    ast.parse(source)
    return source
