"""Hand-off to staff: queue, tickets, office hours, urgent words."""
