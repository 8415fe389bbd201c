"""The self-checks at the end of each chapter, one module per chapter.

``course_lib.exercises.chNN`` holds chapter NN's exercise inputs (module constants, so the
notebook shows exactly what a check uses) and its ``check_*`` functions. Each check compares
the learner's answer with a value it computes itself, prints one verdict line (✅ Correct, or
❌ Not yet with a hint) and returns True or False; ``course_lib.exercises.checks`` holds the
verdicts and input checks they share.

Example:

>>> from course_lib.exercises import ch01
>>> ch01.check_mlp_params(203_530)
✅ Correct: 784*256 + 256 (layer 1) + 256*10 + 10 (layer 2) = 203,530 parameters.
True
"""
