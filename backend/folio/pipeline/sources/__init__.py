"""Sources: each turns a document format into units of text (see `base`)."""
