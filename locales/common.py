"""UI text shared by the app shell and several pages."""

TEXT = {
    "app.title": ("Fine-tuning comparison dashboard", "Painel de comparação de fine-tuning"),
    "app.language": ("Language", "Idioma"),
    "app.db_status": ("Database", "Banco de dados"),
    "app.db_ok": ("{path} · {size} · {migrations} migrations", "{path} · {size} · {migrations} migrações"),
    "app.db_locked": ("The database is in use by another process: {error}", "O banco de dados está em uso por outro processo: {error}"),
    "nav.dados": ("1 Data", "1 Dados"),
    "nav.formatos": ("2 Formats", "2 Formatos"),
    "nav.treino": ("3 Training", "3 Treino"),
    "nav.playground": ("4 Playground", "4 Playground"),
    "nav.resultados": ("5 Results", "5 Resultados"),
    "nav.estudo": ("6 Study recipe", "6 Receita do estudo"),
    "common.error": ("{message}", "{message}"),
    "common.na": ("n/a", "n/d"),
    "common.bundled": ("bundled", "embutido"),
    "common.model_step": ("{name} (step {step})", "{name} (passo {step})"),
}
