"""The ``aisk-harness`` command line: the only part of the harness that prints."""
