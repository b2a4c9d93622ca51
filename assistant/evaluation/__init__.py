"""Gold sets, metrics, the eval runner and report, and the corpus-update gate."""
