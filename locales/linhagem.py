"""UI text of linhagem (English, Portuguese): page 5's lineage tab (ui/resultados_linhagem.py)."""
from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "linhagem.intro": (
        "Two runs side by side: what differs in the data, the curation, the format, the base model and the "
        "hyperparameters, from what each run recorded when it was launched.",
        "Duas execuções lado a lado: o que muda nos dados, na curadoria, no formato, no modelo base e nos "
        "hiperparâmetros, a partir do que cada execução registrou ao ser iniciada."),
    "linhagem.need_two": (
        "There are {n} training runs: launch at least two on page 3 (or with a study recipe) to compare them.",
        "Há {n} execuções de treino: inicie ao menos duas na página 3 (ou com uma receita de estudo) para "
        "compará-las."),
    "linhagem.run_a": ("Run A", "Execução A"),
    "linhagem.run_b": ("Run B", "Execução B"),
    "linhagem.show_all": ("Show every compared value, not only what differs",
                          "Mostrar todos os valores comparados, não só o que muda"),
    "linhagem.same_run": ("A and B are the same run: choose another one to see what differs.",
                          "A e B são a mesma execução: escolha outra para ver o que muda."),
    "linhagem.summary": ("{n} differences: {parts}", "{n} diferenças: {parts}"),
    "linhagem.no_differences": ("No differences ({n} values compared).", "Nenhuma diferença ({n} valores comparados)."),
    "linhagem.col.section": ("Section", "Seção"),
    "linhagem.col.key": ("Setting", "Configuração"),
    "linhagem.col.input": ("Input", "Entrada"),
    "linhagem.col.value": ("Value", "Valor"),
    "linhagem.section.data": ("data", "dados"),
    "linhagem.section.curation": ("curation", "curadoria"),
    "linhagem.section.format": ("format", "formato"),
    "linhagem.section.base_model": ("base model", "modelo base"),
    "linhagem.section.hyperparameters": ("hyperparameters", "hiperparâmetros"),
    "linhagem.section.runs": ("runs", "execuções"),
    "linhagem.section.evaluation": ("evaluation", "avaliação"),
    "linhagem.section.report": ("report", "relatório"),
    "linhagem.key.dataset": ("curated dataset", "conjunto curado"),
    "linhagem.key.raw_file": ("raw file", "arquivo bruto"),
    "linhagem.key.raw_fingerprint": ("raw file's fingerprint", "impressão digital do arquivo bruto"),
    "linhagem.key.train_jsonl_sha256": ("train.jsonl sha256", "sha256 do train.jsonl"),
    "linhagem.key.test_jsonl_sha256": ("test.jsonl sha256", "sha256 do test.jsonl"),
    "linhagem.key.training_file": ("training file", "arquivo de treino"),
    "linhagem.key.training_file_sha256": ("training file sha256", "sha256 do arquivo de treino"),
    "linhagem.lineage_of": ("Lineage of {side}: {run}", "Linhagem de {side}: {run}"),
    "linhagem.made_by_clicking": ("Made by clicking (not by a study recipe).",
                                  "Feita com cliques (não por uma receita de estudo)."),
    "linhagem.made_in_step": ("Made by the study recipe {study}, step {step} (recipe {sha}).",
                              "Feita pela receita de estudo {study}, etapa {step} (receita {sha})."),
    "linhagem.no_lineage": (
        "This run was launched before runs recorded their lineage: the table above describes its data as it is now.",
        "Esta execução foi iniciada antes de as execuções registrarem sua linhagem: a tabela acima descreve seus "
        "dados como estão agora."),
    "linhagem.fact.dataset": ("Curated dataset", "Conjunto curado"),
    "linhagem.fact.raw_file": ("Raw file", "Arquivo bruto"),
    "linhagem.fact.raw_fingerprint": ("Raw file's fingerprint", "Impressão digital do arquivo bruto"),
    "linhagem.fact.curation_sha": ("Curation settings (hash)", "Configuração da curadoria (hash)"),
    "linhagem.fact.train_sha": ("train.jsonl (sha256)", "train.jsonl (sha256)"),
    "linhagem.fact.test_sha": ("test.jsonl (sha256)", "test.jsonl (sha256)"),
    "linhagem.fact.training_file": ("Training file", "Arquivo de treino"),
    "linhagem.fact.training_file_sha": ("Training file (sha256)", "Arquivo de treino (sha256)"),
    "linhagem.fact.format": ("Format", "Formato"),
    "linhagem.fact.template_sha": ("Template (hash)", "Modelo de prompt (hash)"),
    "linhagem.fact.base_model": ("Backend · base model", "Backend · modelo base"),
    "linhagem.fact.hyperparameters_sha": ("Hyperparameters (hash)", "Hiperparâmetros (hash)"),
    "linhagem.cli": ("The same from the command line (it also compares two recipe files):",
                     "O mesmo pela linha de comando (que também compara dois arquivos de receita):"),
}
