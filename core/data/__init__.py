"""Raw data and curation: raw files (format, checks, reading in blocks), cleaning, the curation
filters and presets, and curated datasets as versioned folders (journey step 1, page 1 Dados)."""
