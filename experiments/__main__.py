"""Command line: ``python -m experiments list | report | all | <study>``."""

from experiments.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
