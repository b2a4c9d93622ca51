"""From a question to ranked units: lexicon, fusion, cross-references, scope and abstention."""
