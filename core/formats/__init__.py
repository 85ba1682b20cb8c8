"""Training formats: rendering each example in every format, token statistics per format, and
validation against the cookbook rules (journey step 2, page 2 Formatos)."""
