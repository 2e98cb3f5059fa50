"""Tests of the `finetune` package."""
