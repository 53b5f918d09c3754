"""python -m bench: see bench/harness.py and docs/performance.md."""

import sys

from bench.harness import main

sys.exit(main())
