"""Import runs as small typed steps: full and delta units over one shared pipeline.

``context`` (options, grouped collaborators, the run's mutable record), ``outcome`` (what steps
and runs return), ``steps`` (lease keeping, mapping, rejecting), ``common`` (the shared steps),
``full`` and ``delta`` (the two kinds of run). :class:`norcekit.imports.runner.ImportRunner` is
the entry point handlers and the CLI use.
"""
