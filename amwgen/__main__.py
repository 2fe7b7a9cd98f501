import sys

from amwgen.cli import main

sys.exit(main())
