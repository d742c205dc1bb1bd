"""The hand-off desk: tickets for the care team, claiming, relaying, handing back, closing and call-backs."""
