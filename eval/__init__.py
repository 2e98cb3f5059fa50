"""Evaluation: ROUGE by prompt strategy and adapter, toxicity before/after detox, retrieval accuracy, reports."""
