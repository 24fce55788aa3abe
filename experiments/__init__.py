"""The studies of two deep-learning homeworks, rebuilt on tinynet (see ``python -m experiments list``)."""
