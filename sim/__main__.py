"""``python -m sim``: the command line (see ``python -m sim --help``)."""

import sys

from sim.cli import main

if __name__ == "__main__":  # not when a worker process started by spawning imports this module
    sys.exit(main())
