import sys

from checks.cli.main import main

sys.exit(main())
