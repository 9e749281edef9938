"""Notifications: what a message says (``message``), how it travels (``channels``), and the
dispatcher that sends the outbox the rules fill (``dispatcher``)."""
