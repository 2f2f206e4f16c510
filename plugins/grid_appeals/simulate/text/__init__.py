"""Appeal-text grammar: intents → phrasings, slot fillers and noise (grammar as data in lexicon.py)."""
