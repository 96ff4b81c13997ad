"""`python -m cli`: the `amanah` command."""

import sys

from cli.main import main

sys.exit(main())
