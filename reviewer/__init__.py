"""Twin Reviewer: a talent's consent, use by use, for their digital twin."""

__version__ = "0.1.0"
