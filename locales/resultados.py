"""UI text of the resultados page (page 5): evaluation, leaderboard, charts, criteria, xlsx."""

TEXT: dict[str, tuple[str, str]] = {
    "resultados.title": ("Results", "Resultados"),
    "resultados.intro": (
        "Evaluate base and fine-tuned models on the held-out split, then compare accuracy, training time, "
        "cost and flexibility — the four criteria of the original study — with numbers.",
        "Avalie modelos base e ajustados na parte de teste e compare precisão, tempo de treino, custo e "
        "flexibilidade — os quatro critérios do estudo original — com números."),
    # launching
    "resultados.launch": ("New evaluation", "Nova avaliação"),
    "resultados.models": ("Models", "Modelos"),
    "resultados.no_models": ("No model is registered yet.", "Nenhum modelo registrado ainda."),
    "resultados.data": ("Curated dataset", "Conjunto curado"),
    "resultados.split": ("Split", "Parte"),
    "resultados.limit": ("Examples (0 = all)", "Exemplos (0 = todos)"),
    "resultados.seed": ("Seed", "Semente"),
    "resultados.variants": ("Prompt variants", "Variantes de prompt"),
    "resultados.metrics": ("Metrics", "Métricas"),
    "resultados.main_metric": ("Rank by", "Ordenar por"),
    "resultados.max_new_tokens": ("Max new tokens", "Máximo de tokens novos"),
    "resultados.batch_size": ("Batch size", "Tamanho do lote"),
    "resultados.judge": ("LLM judge", "Juiz LLM"),
    "resultados.judge_on": ("Grade answers with an LLM judge", "Avaliar respostas com um juiz LLM"),
    "resultados.judge_model": ("Judge model", "Modelo juiz"),
    "resultados.judge_none": ("No OpenAI or OpenAI-compatible model is registered to act as judge (page 4 adds one).",
                              "Nenhum modelo OpenAI ou compatível está registrado para ser juiz (a página 4 adiciona)."),
    "resultados.rubric": ("Rubric (visible and editable; {title}, {reference}, {answer} are filled in)",
                          "Rubrica (visível e editável; {title}, {reference}, {answer} são preenchidos)"),
    "resultados.api_key": ("OpenAI API key", "Chave da API da OpenAI"),
    "resultados.api_key_help": ("Used for this session only: never stored, logged or exported. OPENAI_API_KEY or "
                                "st.secrets work too.",
                                "Usada só nesta sessão: nunca é guardada, registrada ou exportada. OPENAI_API_KEY ou "
                                "st.secrets também funcionam."),
    "resultados.need_key": ("An OpenAI model is selected: type the API key (or set OPENAI_API_KEY) to run.",
                                   "Um modelo da OpenAI foi escolhido: digite a chave da API (ou defina OPENAI_API_KEY) "
                                   "para rodar."),
    "resultados.start": ("Run evaluation", "Rodar avaliação"),
    "resultados.started": ("Evaluation {eval_id} started in the background.", "Avaliação {eval_id} iniciada em segundo plano."),
    "resultados.variant_notes": ("How each variant is scored", "Como cada variante é pontuada"),
    # progress
    "resultados.evaluation": ("Evaluation", "Avaliação"),
    "resultados.none_yet": (
        "No evaluation yet: run one above (the bundled SmolLM2 works with no training), or import the seed "
        "study's sheet below.",
        "Nenhuma avaliação ainda: rode uma acima (o SmolLM2 embutido funciona sem treino) ou importe a planilha "
        "do estudo original abaixo."),
    "resultados.progress": ("{phase}: {done} of {total} answers", "{phase}: {done} de {total} respostas"),
    "resultados.phase.generating": ("Generating", "Gerando"),
    "resultados.phase.scoring": ("Scoring", "Pontuando"),
    "resultados.phase.judging": ("Judging", "Julgando"),
    "resultados.phase.queued": ("Starting", "Iniciando"),
    "resultados.cancel": ("Cancel", "Cancelar"),
    "resultados.resume": ("Resume", "Retomar"),
    "resultados.delete": ("Delete", "Apagar"),
    "resultados.delete_confirm": ("Delete {eval_id} and all its answers", "Apagar {eval_id} e todas as respostas"),
    "resultados.example": ("Read one example in full", "Ler um exemplo por inteiro"),
    "resultados.col.rank": ("#", "#"),
    "resultados.col.display_name": ("Model", "Modelo"),
    "resultados.col.n": ("Answers", "Respostas"),
    "resultados.col.errors": ("Errors", "Erros"),
    "resultados.col.main": ("Score", "Nota"),
    "resultados.col.main_low": ("CI low", "IC inf."),
    "resultados.col.main_high": ("CI high", "IC sup."),
    "resultados.col.corpus_bleu": ("BLEU (corpus)", "BLEU (corpus)"),
    "resultados.col.corpus_chrf": ("chrF (corpus)", "chrF (corpus)"),
    "resultados.col.latency_s": ("s / answer", "s / resposta"),
    "resultados.col.tokens_out": ("Tokens out", "Tokens gerados"),
    "resultados.col.inference_cost_per_1k": ("USD / 1k answers", "USD / 1 mil respostas"),
    "resultados.col.training_time_s": ("Training s", "Treino (s)"),
    "resultados.col.tokens_per_s": ("Tokens/s", "Tokens/s"),
    "resultados.col.training_cost_usd": ("Training USD", "Treino (USD)"),
    "resultados.col.total_cost_per_1k": ("Total USD / 1k", "Total USD / 1 mil"),
    "resultados.col.flex_spread": ("Spread across variants", "Variação entre variantes"),
    "resultados.col.flex_mean": ("Mean across variants", "Média entre variantes"),
    "resultados.col.title": ("Title", "Título"),
    "resultados.col.reference": ("Reference", "Referência"),
    "resultados.col.answer": ("Answer", "Resposta"),
    "resultados.col.wall_s": ("Seconds", "Segundos"),
    "resultados.col.cost_usd": ("USD", "USD"),
    "resultados.state.succeeded": ("Finished: {done} of {total} answers.", "Concluída: {done} de {total} respostas."),
    "resultados.state.imported": ("Imported sheet: {done} answers.", "Planilha importada: {done} respostas."),
    "resultados.state.cancelled": ("Cancelled after {done} of {total} answers; resume to finish it.",
                                   "Cancelada após {done} de {total} respostas; retome para terminar."),
    "resultados.state.interrupted": (
        "Interrupted after {done} of {total} answers (the app stopped); resume to finish it — stored answers are kept.",
        "Interrompida após {done} de {total} respostas (o app parou); retome para terminar — as respostas guardadas "
        "são mantidas."),
    "resultados.state.failed": ("Failed: {message}", "Falhou: {message}"),
    "resultados.overview": ("All evaluations side by side (new and imported)",
                            "Todas as avaliações lado a lado (novas e importadas)"),
    "resultados.overview_help": (
        "Mean of the main metric per model on the as-trained prompt. Each evaluation has its own examples: "
        "compare models within a row group, and across groups only as an indication.",
        "Média da métrica principal por modelo no prompt do treino. Cada avaliação tem seus próprios exemplos: "
        "compare modelos dentro de um grupo e, entre grupos, só como indicação."),
    "resultados.col.source": ("Source", "Origem"),
    "resultados.col.mean": ("Mean", "Média"),
    "resultados.col.finetuned": ("Fine-tuned", "Ajustado"),
    # tabs
    "resultados.tab.leaderboard": ("Leaderboard", "Classificação"),
    "resultados.tab.costs": ("Cost and time", "Custo e tempo"),
    "resultados.tab.criteria": ("Four criteria", "Quatro critérios"),
    "resultados.tab.examples": ("Examples", "Exemplos"),
    "resultados.tab.files": ("xlsx and import", "xlsx e importação"),
    "resultados.variant": ("Variant", "Variante"),
    "resultados.pair": ("Paired test", "Teste pareado"),
    "resultados.pair_a": ("Model A", "Modelo A"),
    "resultados.pair_b": ("Model B", "Modelo B"),
    "resultados.pair_result": (
        "A − B = {diff} (95% CI {low} to {high}) on {n} examples; A better on {wins_a}, B on {wins_b}; "
        "paired bootstrap p = {p_boot}, Wilcoxon p = {p_wil}.",
        "A − B = {diff} (IC 95% {low} a {high}) em {n} exemplos; A melhor em {wins_a}, B em {wins_b}; "
        "bootstrap pareado p = {p_boot}, Wilcoxon p = {p_wil}."),
    "resultados.significant": ("The difference is significant (p < 0.05).", "A diferença é significativa (p < 0,05)."),
    "resultados.not_significant": ("No significant difference on these examples (p ≥ 0.05).",
                                   "Sem diferença significativa nestes exemplos (p ≥ 0,05)."),
    "resultados.runs": ("Training runs", "Treinos"),
    "resultados.no_runs": ("No training run yet: base models have no training time or cost (page 3 trains).",
                           "Nenhum treino ainda: modelos base não têm tempo nem custo de treino (a página 3 treina)."),
    "resultados.criteria_table": ("Raw values", "Valores brutos"),
    "resultados.criteria_help": (
        "Precision: main metric on the as-trained prompt. Training efficiency: training time, among the trained "
        "models (base models: n/a). "
        "Operating cost: USD per 1,000 answers. Flexibility: spread of the main metric across prompt variants "
        "(run several variants to measure it). Bars are 0–1, 1 = best of these models.",
        "Precisão: métrica principal no prompt do treino. Eficiência de treino: tempo de treino, entre os modelos "
        "treinados (modelos base: n/d). Custo de operação: USD por 1.000 respostas. Flexibilidade: variação da "
        "métrica principal entre "
        "variantes de prompt (rode várias variantes para medir). Barras de 0 a 1, 1 = melhor destes modelos."),
    "resultados.criteria.precision": ("Precision", "Precisão"),
    "resultados.criteria.training_efficiency": ("Training efficiency", "Eficiência de treino"),
    "resultados.criteria.operating_cost": ("Operating cost", "Custo de operação"),
    "resultados.criteria.flexibility": ("Flexibility", "Flexibilidade"),
    "resultados.search": ("Filter (title, reference or answer)", "Filtrar (título, referência ou resposta)"),
    "resultados.show_models": ("Models shown", "Modelos exibidos"),
    "resultados.extremes": ("Best and worst examples", "Melhores e piores exemplos"),
    "resultados.extremes_model": ("Model", "Modelo"),
    "resultados.best": ("Best", "Melhores"),
    "resultados.worst": ("Worst", "Piores"),
    "resultados.rows": ("{n} examples", "{n} exemplos"),
    "resultados.build_xlsx": ("Build the xlsx workbook", "Gerar a planilha xlsx"),
    "resultados.download_xlsx": ("Download {name}", "Baixar {name}"),
    "resultados.xlsx_help": (
        "A sheet per model pair in the seed study's layout (Titulo | Descrição do dataset | Finetuned <model> | "
        "<model>), plus leaderboard, criteria, scores, answers, runs, loss curves, votes, curation and prices. "
        "No API key is ever written.",
        "Uma aba por par de modelos no formato do estudo original (Titulo | Descrição do dataset | Finetuned "
        "<modelo> | <modelo>), mais classificação, critérios, notas, respostas, treinos, curvas de perda, votos, "
        "curadoria e preços. Nenhuma chave de API é gravada."),
    "resultados.import": ("Import an old comparison sheet", "Importar uma planilha de comparação antiga"),
    "resultados.import_file": ("Sheet in the seed layout (.xlsx, .ods, .csv)", "Planilha no formato do estudo (.xlsx, .ods, .csv)"),
    "resultados.import_seed": ("Import the seed study's sheet", "Importar a planilha do estudo original"),
    "resultados.import_button": ("Import", "Importar"),
    "resultados.imported": ("Imported {n} sheet(s): {names}.", "{n} aba(s) importada(s): {names}."),
    # charts
    "resultados.chart.no_data": ("No scores yet.", "Ainda sem notas."),
    "resultados.chart.no_cost": ("No costs known for these models.", "Nenhum custo conhecido para estes modelos."),
    "resultados.chart.no_runs": ("No training runs yet.", "Nenhum treino ainda."),
    "resultados.chart.leaderboard": ("{metric} per model (95% bootstrap CI)", "{metric} por modelo (IC 95% bootstrap)"),
    "resultados.chart.cost_accuracy": ("Accuracy vs total cost", "Precisão vs custo total"),
    "resultados.chart.cost_accuracy_sub": ("training + 1,000 answers; dotted: Pareto front; bars: 95% CI",
                                           "treino + 1.000 respostas; pontilhado: fronteira de Pareto; barras: IC 95%"),
    "resultados.chart.front": ("Pareto front", "Fronteira de Pareto"),
    "resultados.chart.models": ("Models", "Modelos"),
    "resultados.chart.total_cost": ("USD (training + 1,000 answers)", "USD (treino + 1.000 respostas)"),
    "resultados.chart.cost_breakdown": ("Cost breakdown (USD)", "Composição do custo (USD)"),
    "resultados.chart.training": ("Training time and throughput per run", "Tempo de treino e vazão por treino"),
    "resultados.chart.cost_training": ("Training", "Treino"),
    "resultados.chart.cost_inference_per_1k": ("Inference per 1,000 answers", "Inferência por 1.000 respostas"),
    "resultados.chart.minutes": ("minutes", "minutos"),
    "resultados.chart.tokens_s": ("tokens/s", "tokens/s"),
    "resultados.chart.loss": ("Loss curves", "Curvas de perda"),
    "resultados.chart.step": ("step", "passo"),
    "resultados.chart.criteria": ("The four criteria (1 = best of these models)",
                                  "Os quatro critérios (1 = melhor destes modelos)"),
    "resultados.chart.relative": ("relative score", "nota relativa"),
    "resultados.chart.flexibility": ("Main metric per prompt variant (Δ = spread)",
                                     "Métrica principal por variante de prompt (Δ = variação)"),
}
