"""The legal texts as data: documents, units, references between them, checks."""
