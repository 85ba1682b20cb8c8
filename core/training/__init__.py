"""Training: TrainConfig and presets, launching and supervising runs through their run folders,
the training subprocess entry and its backends (journey step 3, page 3 Treino)."""
