"""``python -m adamtune`` runs the command line."""

import sys

from adamtune.cli import main

sys.exit(main())
