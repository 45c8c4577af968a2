"""``python -m benchmarks``: eip against its peers (see ``benchmarks/suite.py``)."""

import sys

from benchmarks.suite import main

sys.exit(main())
