"""UI text of confianca (English, Portuguese): see locales/__init__.py."""
from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "confianca.intro": (
        "Which metric to trust: how often each automatic metric, and an LLM judge, picks the same winner as a "
        "person did (votes in the arena, ratings imported from sheets), and whether it ranks the models as people "
        "do (Kendall τ).",
        "Em qual métrica confiar: com que frequência cada métrica automática, e um juiz LLM, escolhe o mesmo "
        "vencedor que uma pessoa escolheu (votos na arena, notas importadas de planilhas), e se ordena os modelos "
        "como as pessoas (τ de Kendall)."),
    "confianca.no_votes": (
        "No human votes yet. Vote in the arena on page 4 (Playground), or import a sheet with `Nota <model>` / "
        "`Rating <model>` columns beside the answers (the tab xlsx and import, or `python -m core import FILE`).",
        "Ainda não há votos humanos. Vote na arena da página 4 (Playground), ou importe uma planilha com colunas "
        "`Nota <modelo>` / `Rating <modelo>` ao lado das respostas (aba xlsx e importação, ou `python -m core import ARQUIVO`)."),
    "confianca.counts": (
        "{pairs} human pairs with a winner ({votes} arena votes, {ratings} pairs from imported ratings); {ties} "
        "ties or 'both bad' left out.",
        "{pairs} pares humanos com vencedor ({votes} votos na arena, {ratings} pares de notas importadas); {ties} "
        "empates ou 'ambas ruins' deixados de fora."),
    "confianca.verdict.best": (
        "On this task, **{metric}** agrees best with the people: {agreement} of {n} pairs.",
        "Nesta tarefa, **{metric}** é a que mais concorda com as pessoas: {agreement} de {n} pares."),
    "confianca.verdict.best_overlap": (
        "On this task, **{metric}** agrees best with the people ({agreement} of {n} pairs), but its interval "
        "overlaps {other}'s: more votes would tell them apart.",
        "Nesta tarefa, **{metric}** é a que mais concorda com as pessoas ({agreement} de {n} pares), mas seu "
        "intervalo se sobrepõe ao de {other}: mais votos as separariam."),
    "confianca.verdict.too_few": (
        "Too few votes to tell which metric agrees best (n={n}, need {need}).",
        "Votos de menos para dizer qual métrica concorda mais (n={n}, são precisos {need})."),
    "confianca.note.ties": (
        "{k} human ties or 'both bad' are left out of the agreement (no winner to agree with).",
        "{k} empates humanos ou 'ambas ruins' ficam fora da concordância (não há vencedor com quem concordar)."),
    "confianca.note.no_reference": (
        "{k} pairs have no reference (their prompt was typed, not a test example): only the judge rates them.",
        "{k} pares não têm referência (o prompt foi digitado, não veio de um exemplo de teste): só o juiz os avalia."),
    "confianca.note.missing_answer": (
        "{k} votes have no stored answer and are left out.",
        "{k} votos não têm resposta guardada e ficam de fora."),
    "confianca.note.no_semantic": (
        "The semantic metric is left out: the offline embedding model is not installed.",
        "A métrica semântica fica de fora: o modelo de embeddings offline não está instalado."),
    "confianca.note.judge_unread": (
        "{k} pairs lack a readable verdict in one order or both (the judge named neither A nor B): they are left "
        "out of its row.",
        "{k} pares não têm veredito legível em uma ordem ou nas duas (o juiz não disse A nem B): ficam fora da "
        "sua linha."),
    "confianca.note.judge_cached": (
        "The judge row uses the verdicts asked so far ({k} of {total} pairs): ask the judge for the rest.",
        "A linha do juiz usa os vereditos pedidos até agora ({k} de {total} pares): peça ao juiz o resto."),
    "confianca.chart.title": ("Agreement with the people (95% interval)", "Concordância com as pessoas (intervalo de 95%)"),
    "confianca.chart.x": ("same winner as the person (%)", "mesmo vencedor que a pessoa (%)"),
    "confianca.chart.chance": ("coin flip", "cara ou coroa"),
    "confianca.chart.hover": (
        "{metric}: {agreement} [{low}, {high}] of {n} pairs",
        "{metric}: {agreement} [{low}, {high}] de {n} pares"),
    "confianca.col.metric": ("metric", "métrica"),
    "confianca.col.n": ("pairs (n)", "pares (n)"),
    "confianca.col.agreement": ("agreement %", "concordância %"),
    "confianca.col.low": ("low %", "mín. %"),
    "confianca.col.high": ("high %", "máx. %"),
    "confianca.col.kendall_tau": ("Kendall τ", "τ de Kendall"),
    "confianca.col.n_models": ("models", "modelos"),
    "confianca.col.position_bias": ("position bias %", "viés de posição %"),
    "confianca.col.first_wins": ("first shown wins %", "primeira mostrada vence %"),
    "confianca.judge_label": ("LLM judge ({model})", "Juiz LLM ({model})"),
    "confianca.judge": ("Judge model", "Modelo juiz"),
    "confianca.judge_help": (
        "Any registered model can judge: it is asked which of two answers describes the book better, once with "
        "each answer first. Verdicts are kept: asking again costs nothing.",
        "Qualquer modelo registrado pode julgar: ele responde qual de duas respostas descreve melhor o livro, uma "
        "vez com cada resposta primeiro. Os vereditos são guardados: perguntar de novo não custa nada."),
    "confianca.no_judge": ("(no judge)", "(sem juiz)"),
    "confianca.ask": ("Ask the judge", "Perguntar ao juiz"),
    "confianca.phase.scoring": ("Scoring {total} answers…", "Pontuando {total} respostas…"),
    "confianca.phase.judge": ("Judge: {done} of {total} questions", "Juiz: {done} de {total} perguntas"),
    "confianca.judge_running": ("The judge {model} is answering in the background…",
                                "O juiz {model} está respondendo em segundo plano…"),
    "confianca.how": (
        "How ties count: a person's tie or 'both bad' is left out (no winner to agree with); a metric's tie (equal "
        "scores) or a judge that changes its verdict when the answers swap places counts half. Metrics need the "
        "reference, so only votes on test examples count for them. More votes: the arena on page 4 (Playground), "
        "with prompts drawn from the test split; or import a sheet with `Nota <model>` columns.",
        "Como contam os empates: o empate ou 'ambas ruins' de uma pessoa fica de fora (não há vencedor com quem "
        "concordar); o empate de uma métrica (notas iguais) ou um juiz que muda de veredito quando as respostas "
        "trocam de lugar conta metade. As métricas precisam da referência: só votos em exemplos de teste contam "
        "para elas. Mais votos: a arena da página 4 (Playground), com prompts do conjunto de teste; ou importe uma "
        "planilha com colunas `Nota <modelo>`."),
    "confianca.api_key": ("OpenAI API key (this session only)", "Chave da API da OpenAI (só nesta sessão)"),
    "confianca.api_key_help": (
        "Used to ask the OpenAI judge; kept in this session's memory only, never stored.",
        "Usada para perguntar ao juiz da OpenAI; fica só na memória desta sessão, nunca é guardada."),
    "confianca.need_key": ("Type an OpenAI API key to ask this judge.",
                           "Digite uma chave da API da OpenAI para perguntar a este juiz."),
}
