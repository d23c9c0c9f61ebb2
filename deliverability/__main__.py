"""``python -m deliverability``: the command-line interface (see ``deliverability.cli``)."""

import gc

gc.disable()  # the imports make objects that live as long as the process: nothing to collect
from .cli import main  # noqa: E402

gc.freeze()  # and never look at them again, the collection at exit included
gc.enable()
raise SystemExit(main())
