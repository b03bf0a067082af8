"""Formal notices sent as electronic registered letters (issue 18): the letter as a PDF, its row
in the warehouse with AR24's ids, status and proofs, and the litigation file a lawyer receives."""
