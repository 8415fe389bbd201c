"""The course's tooling, apart from the model library: nothing in the core imports it.

- ``course_lib.tooling.runner``: ``python -m course_lib run``, which executes chapters, records
  what each cost and writes ``RESULTS.md``.
- ``course_lib.tooling.results``: per-profile run records and each chapter's key figures.
- ``course_lib.tooling.environment``: the environment report of chapter 00 (versions, devices,
  the mixed-precision policy that suits them).

The notebook build (``tools/notebooks.py``) and the slide export (``tools/slides.py``) live in
``tools/``.
"""
