"""The event pipeline: a fetched page becomes drafts (parse), drafts are matched to the
watchlist (match), repeats are merged (dedup), and new listing events are stored (create)."""
