"""The schema revision this code expects (kept apart so reading it imports nothing heavy)."""

HEAD = "0016"
