"""Assemble README.rst from the fragments in readme/ (edit those, then run this).

python tools/build_readme.py          write README.rst
python tools/build_readme.py --check  exit 1 when README.rst is not what the fragments make
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
==================
Mail Domain Health
==================

.. |badge1| image:: https://img.shields.io/badge/licence-LGPL--3-blue.png
    :target: http://www.gnu.org/licenses/lgpl-3.0-standalone.html
    :alt: License: LGPL-3

|badge1|

"""
# (section title, fragments); a title of None puts the fragment before the table of contents
SECTIONS = [
    (None, ["DESCRIPTION"]),
    ("Quick start and installation", ["INSTALL"]),
    ("What it checks", ["CHECKS"]),
    ("Configuration", ["CONFIGURE"]),
    ("Usage", ["USAGE", "SENDER", "DKIM", "DMARC_REPORTS"]),
    ("Command line", ["CLI"]),
    ("Development", ["DEVELOP"]),
    ("Changelog", ["HISTORY"]),
    ("Credits", []),
    ("Contributors", ["CONTRIBUTORS"]),
]
CONTENTS = "**Table of contents**\n\n.. contents::\n   :local:\n\n"


def _fragment(name: str) -> str:
    path = ROOT / "readme" / f"{name}.rst"
    return path.read_text(encoding="utf-8").strip() + "\n\n" if path.exists() else ""


def build() -> str:
    parts = [HEADER]
    for title, names in SECTIONS:
        body = "".join(_fragment(name) for name in names)
        if title is None:
            parts.append(body + CONTENTS)
            continue
        underline = "-" if title == "Contributors" else "="
        parts.append(f"{title}\n{underline * len(title)}\n\n{body}")
    return "".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    readme = ROOT / "README.rst"
    text = build()
    if "--check" in argv:
        if readme.read_text(encoding="utf-8") != text:
            print(
                "README.rst is not what readme/*.rst make: run python tools/build_readme.py", file=sys.stderr
            )
            return 1
        return 0
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
