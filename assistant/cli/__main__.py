"""`python -m assistant.cli …` (tests and benches start the command this way)."""

import sys

from assistant.cli.main import main

sys.exit(main())
