"""`bgw demo`: a local sample shop site that changes over time, and BGW watching it."""
