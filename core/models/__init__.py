"""Models: the registry (local, fine-tuned, hosted, endpoints), generation (local batches,
remote streams) and playground batches (journey step 4, page 4 Playground)."""
