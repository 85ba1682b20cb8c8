"""UI text of checkpoints (English, Portuguese): see locales/__init__.py."""
from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "checkpoints.intro": (
        "Every saved checkpoint of a run, its base model (step 0) and its final model answer the same held-out "
        "examples of the run's own dataset with the same metrics: the score per step, with its 95% interval, sits "
        "beside the loss curve, so whether the model learned is seen, not assumed.",
        "Cada checkpoint salvo de um treino, o modelo base (passo 0) e o modelo final respondem aos mesmos exemplos "
        "de teste do conjunto do próprio treino, com as mesmas métricas: a nota por passo, com seu intervalo de 95%, "
        "fica ao lado da curva de perda, e se o modelo aprendeu se vê em vez de se supor."),
    "checkpoints.no_runs": (
        "No finished training run yet: train one on page 3 (Training), then score its checkpoints here.",
        "Nenhum treino concluído ainda: treine um na página 3 (Treino) e depois pontue seus checkpoints aqui."),
    "checkpoints.run": ("Run", "Treino"),
    "checkpoints.run_help": (
        "A finished training run; the study's current run is chosen first.",
        "Um treino concluído; o treino atual do estudo vem escolhido primeiro."),
    "checkpoints.not_scored": (
        "This run's checkpoints have not been scored yet.",
        "Os checkpoints deste treino ainda não foram pontuados."),
    "checkpoints.limit": ("Test examples per step", "Exemplos de teste por passo"),
    "checkpoints.limit_help": (
        "Every step answers the same examples, drawn from the test split with seed 0; more examples give "
        "narrower intervals and take longer.",
        "Todos os passos respondem aos mesmos exemplos, sorteados da parte de teste com semente 0; mais exemplos "
        "dão intervalos mais estreitos e levam mais tempo."),
    "checkpoints.max_new_tokens": ("Most tokens per answer", "Máximo de tokens por resposta"),
    "checkpoints.max_new_tokens_help": (
        "Fewer tokens answer faster; every step gets the same limit.",
        "Menos tokens respondem mais rápido; todos os passos têm o mesmo limite."),
    "checkpoints.plan": (
        "{models} models (the base at step 0, {checkpoints} checkpoint(s), the final model) × {examples} test "
        "examples of {data} = {answers} answers.",
        "{models} modelos (o base no passo 0, {checkpoints} checkpoint(s), o modelo final) × {examples} exemplos de "
        "teste de {data} = {answers} respostas."),
    "checkpoints.score": ("Score every checkpoint", "Pontuar cada checkpoint"),
    "checkpoints.rescore": ("Score again with these settings", "Pontuar de novo com estas opções"),
    "checkpoints.settings": ("Score with other settings", "Pontuar com outras opções"),
    "checkpoints.api_key": ("OpenAI API key (this session only)", "Chave da API da OpenAI (só nesta sessão)"),
    "checkpoints.api_key_help": (
        "Needed to ask OpenAI's checkpoints; kept in this browser session's memory, never stored.",
        "Necessária para consultar os checkpoints da OpenAI; fica só na memória desta sessão, nunca é gravada."),
    "checkpoints.need_key": (
        "This run's models answer through OpenAI: give a key (or set OPENAI_API_KEY) to score them.",
        "Os modelos deste treino respondem pela OpenAI: informe uma chave (ou defina OPENAI_API_KEY) para "
        "pontuá-los."),
    "checkpoints.no_loss": ("No loss was recorded for this run.", "Nenhuma perda foi registrada neste treino."),
    "checkpoints.no_scores": ("No step scored yet.", "Nenhum passo pontuado ainda."),
    "checkpoints.chart.loss": ("Loss vs step", "Perda por passo"),
    "checkpoints.chart.metric": ("{metric} vs step (95% interval)", "{metric} por passo (intervalo de 95%)"),
    "checkpoints.chart.band": ("95% interval", "intervalo de 95%"),
    "checkpoints.chart.hover": (
        "{role}, step {step}<br>{value} [{low}, {high}], n = {n}",
        "{role}, passo {step}<br>{value} [{low}, {high}], n = {n}"),
    "checkpoints.role.base": ("base model", "modelo base"),
    "checkpoints.role.checkpoint": ("checkpoint", "checkpoint"),
    "checkpoints.role.final": ("final model", "modelo final"),
    "checkpoints.col.step": ("Step", "Passo"),
    "checkpoints.col.value": ("Score", "Nota"),
    "checkpoints.col.low": ("95% low", "Mín. 95%"),
    "checkpoints.col.high": ("95% high", "Máx. 95%"),
    "checkpoints.col.n": ("Examples", "Exemplos"),
    "checkpoints.col.role": ("Model", "Modelo"),
    "checkpoints.col.model_id": ("Registry id", "Id no registro"),
    "checkpoints.verdict.head": (
        "{metric} went from {start} at step {start_step} to {end} at step {end_step} ({diff}, paired test "
        "p = {p}, n = {n})",
        "{metric} foi de {start} no passo {start_step} a {end} no passo {end_step} ({diff}, teste pareado "
        "p = {p}, n = {n})"),
    "checkpoints.verdict.learned": ("it learned.", "aprendeu."),
    "checkpoints.verdict.worse": ("it got worse.", "piorou."),
    "checkpoints.verdict.no_change": (
        "no significant change (score more examples to narrow the interval).",
        "nenhuma mudança significativa (pontue mais exemplos para estreitar o intervalo)."),
    "checkpoints.verdict.too_few": (
        "Too few scored steps or examples to tell whether it learned.",
        "Poucos passos ou exemplos pontuados para dizer se aprendeu."),
    "checkpoints.eval_note": (
        "This is evaluation {eval_id}: choose it in the list above for its leaderboard, examples and xlsx.",
        "Esta é a avaliação {eval_id}: escolha-a na lista acima para ver o ranking, os exemplos e o xlsx."),
}
