"""``python -m course_lib run [--profile P] [chapters…]``: the course runner.

See :mod:`course_lib.runner` for what it does and the options (``--help``).
"""

import sys

from course_lib.runner import main

if __name__ == "__main__":
    sys.exit(main())
