"""warroom: incident response from the first alarm to the last follow-up."""

__version__ = "0.1.0"
