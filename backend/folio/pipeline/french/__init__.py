"""The French parser (spaCy) and what Folio asks of it: is a sentence complete, where to cut."""
