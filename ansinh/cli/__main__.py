"""``python -m ansinh.cli`` is the ``ansinh`` command (``ansinh serve`` starts its worker so)."""

from ansinh.cli import run

if __name__ == "__main__":  # not when a process of ``kpi --rebuild`` starts (spawn)
    run()
