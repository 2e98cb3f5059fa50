"""The standards aligner: hybrid search (`search`), alignment with a grounded, cited answer (`align`)."""
