"""Reviewing conversations afterwards: the index, search, transcripts, labels, insights, exports and retention."""
