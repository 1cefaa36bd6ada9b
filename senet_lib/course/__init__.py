"""The course's own code: exercise checkers (:mod:`~senet_lib.course.checks`) and the notebook runner.

May import anything below it (core, ``data``, ``training``, ``analysis``); never ``cli``.
"""
