"""course_lib: the Keras 3 library behind the course "How large language models are trained".

Each module holds one concern; the notebooks import from here rather than copying code:

- ``course_lib.profiles``: the run profile (smoke / cpu / gpu) and ``pick``.
- ``course_lib.reproducibility``: one seeding helper for Python, NumPy, TensorFlow and Keras.
- ``course_lib.data``: the dataset registry, the verified loader and format readers.
- ``course_lib.tokenizers``: character and subword tokenizers that round-trip.
- ``course_lib.lm_data``: ``tf.data`` pipelines of (x, y) windows for language modelling.
- ``course_lib.layers``: attention, position embeddings and the Transformer block.
- ``course_lib.gpt``: the GPT configuration and model.
- ``course_lib.training``: schedules, the trainer with checkpoints and resume.
- ``course_lib.generation``: sampling strategies and the key/value-cached decoder.
- ``course_lib.environment``: the environment report shown in chapter 00.
"""

import os

# TensorFlow prints C++ log lines to stderr when it loads; in a notebook they become stored
# stderr outputs that hide the real ones. Quiet them unless the user asked for them. This must
# run before TensorFlow is imported, which is why it lives at the top of the package.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
