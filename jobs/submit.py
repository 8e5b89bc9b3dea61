"""spark-submit entry point: `spark-submit [options] jobs/submit.py run --input ... --output ...`."""

import sys

from realname_guard.cli import main

if __name__ == "__main__":
    sys.exit(main())
