"""Summaries a teacher can use: length that fits the input, paragraph / bullets / outline, key terms, classroom talk figures."""
