"""``python -m ansinh.cli`` is the ``ansinh`` command (``ansinh serve`` starts its worker so)."""

from ansinh.cli import run

run()
