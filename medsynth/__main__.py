"""``python -m medsynth``: the ``medsynth`` console script, for an environment whose scripts are not on the path."""

import sys

from medsynth.cli.main import main

sys.exit(main())
