"""From ranked units to a reply: verbatim extracts, the model's draft, its verification, follow-ups."""
