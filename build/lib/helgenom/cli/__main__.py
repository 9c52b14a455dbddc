"""`python -m helgenom.cli`: the `helgenom` command."""

import sys

from helgenom.cli import main

sys.exit(main())
