"""``python -m deliverability``: the command-line interface (see ``deliverability.cli``)."""

from .cli import main

raise SystemExit(main())
