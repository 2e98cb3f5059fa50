"""edurag: the shared core (settings, codes, chunk ids, prompts, model loading), the domain packages built on it
(alignment, summarization, jobs) and the command-line entry point (`edurag.cli`). README "Architecture" has the layers."""
