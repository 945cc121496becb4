"""``python -m training``: the training command (``training.run.main``; ``--help`` lists the options)."""

import sys

from training.run import main

sys.exit(main())
