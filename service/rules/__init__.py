"""Rules: which new events notify, and how (the notifications issue delivers them)."""
