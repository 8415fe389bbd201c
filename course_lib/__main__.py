"""``python -m course_lib run [--profile P] [chapters…]``: the course runner;
``python -m course_lib pretrain --profile {smoke,cpu,gpu} [--out DIR] [--no-resume]
[--max-minutes M]``: pretrain the course foundation model (:mod:`course_lib.pretraining`).

See :mod:`course_lib.tooling.runner` for what they do and the options (``--help``).
"""

import sys

from course_lib.tooling.runner import main

if __name__ == "__main__":
    sys.exit(main())
