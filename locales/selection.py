"""UI text of the current-selection notes shared by pages 2-5 (ui/selection.py)."""

TEXT: dict[str, tuple[str, str]] = {
    "selection.gone_stored_dataset": (
        "The dataset chosen last, {name}, is no longer available (its folder was removed?): showing {shown}.",
        "O dataset escolhido por último, {name}, não está mais disponível (a pasta foi removida?): mostrando {shown}."),
    "selection.gone_url_dataset": (
        "The dataset in the link, {name}, is not available: showing {shown}.",
        "O dataset do link, {name}, não está disponível: mostrando {shown}."),
    "selection.gone_stored_run": (
        "The run chosen last, {name}, is no longer in the database: showing {shown}.",
        "A execução escolhida por último, {name}, não está mais no banco: mostrando {shown}."),
    "selection.gone_url_run": (
        "The run in the link, {name}, is not in the database: showing {shown}.",
        "A execução do link, {name}, não está no banco: mostrando {shown}."),
    "selection.model_training": (
        "The fine-tune of run {name} is still training: it joins these models when it finishes.",
        "O ajuste fino da execução {name} ainda está treinando: ele entra nestes modelos quando terminar."),
    "selection.model_gone": (
        "The model {name} chosen last is no longer available.",
        "O modelo {name} escolhido por último não está mais disponível."),
}
