"""Identity: API tokens, their roles and what each may do. Imports ``shared`` and
``ports``."""
