"""``python -m course_lib run [--profile P] [chapters…]``: the course runner.

See :mod:`course_lib.tooling.runner` for what it does and the options (``--help``).
"""

import sys

from course_lib.tooling.runner import main

if __name__ == "__main__":
    sys.exit(main())
