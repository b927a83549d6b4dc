"""``python -m cpgraph.cli``: the ``cpgraph`` command, as it ran before the CLI became a package."""

import sys

from cpgraph.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
