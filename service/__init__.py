"""BGW: watches board-game shops and publications and notifies by rules."""

__version__ = "0.1.0"
