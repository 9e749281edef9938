"""Agents: scheduled, polite fetching of shop and publication pages, parsed into drafts."""
