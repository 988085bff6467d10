"""Use cases on incidents: commands, changes near an incident, JSON views and open counts.
May import ``comms``, ``identity``, ``shared`` and ``ports``."""
