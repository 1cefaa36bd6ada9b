"""The course's own code: tiers and the first cell (:mod:`~senet_lib.course.tiers`), shared data setup
(``data``), training cells that resume (``training``), shipped results (``results``), interactive figures without
Output widgets (``display``), exercise checkers (``checks``), the notebook runner and the stall check.

May import anything below it (core, ``data``, ``training``, ``analysis``); never ``cli``.
"""

from senet_lib.course.tiers import Course, setup

__all__ = ["Course", "setup"]
